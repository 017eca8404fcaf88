# Описания в меню команд (setMyCommands), не длиннее 256 символов.
menu-start = Получать опросы после визитов
menu-stop = Не присылать опросы
menu-forget = Удалить мои персональные данные
menu-help = Что умеет этот бот
menu-stats = Отчёт по отзывам: NPS и не только
menu-chart = График NPS по неделям
menu-topics = Какие темы отнимают NPS: /topics 30d
menu-cases = Открытые обращения
menu-case = История обращения: /case 12
menu-export = Ответы в CSV-файле
menu-admin = Команды администратора
menu-dashboard = Панель (Mini App)
menu-locations = Точки сети
menu-anniversaries = Благодарности в годовщину
menu-customer = Найти клиента
menu-qr = QR-код для точки
menu-broadcast_test = Посмотреть опрос
