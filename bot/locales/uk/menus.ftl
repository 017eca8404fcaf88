# Описи в меню команд (setMyCommands), не довші за 256 символів.
menu-start = Отримувати опитування після візитів
menu-stop = Не надсилати опитування
menu-forget = Видалити мої персональні дані
menu-help = Що вміє цей бот
menu-stats = Звіт про відгуки: NPS та інше
menu-chart = Графік NPS за тижнями
menu-topics = Які теми забирають NPS: /topics 30d
menu-cases = Відкриті звернення
menu-case = Історія звернення: /case 12
menu-export = Відповіді у CSV-файлі
menu-admin = Команди адміністратора
menu-dashboard = Панель (Mini App)
menu-locations = Точки мережі
menu-anniversaries = Подяки в річницю
menu-customer = Знайти клієнта
menu-qr = QR-код для точки
menu-broadcast_test = Переглянути опитування
