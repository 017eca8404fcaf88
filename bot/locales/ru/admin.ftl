## Благодарности к годовщинам и команды администратора. Обычный текст (без HTML).

## Благодарность, которую получает клиент. $name, $years (число), $company.
anniv-years = { $years ->
    [one] { $years } год
    [few] { $years } года
   *[many] { $years } лет
}
anniv-message = { $name }, спасибо, что вы с нами уже { anniv-years }! Мы очень ценим ваше доверие. — { $company }
anniv-message-anonymous = Спасибо, что вы с нами уже { anniv-years }! Мы очень ценим ваше доверие. — { $company }

## Что видит администратор перед отправкой. $count — число клиентов.
anniv-customers = { $count ->
    [one] { $count } клиент
    [few] { $count } клиента
   *[many] { $count } клиентов
}
anniv-preview-title = 🎉 Годовщины { $date }: { anniv-customers }.
anniv-preview-group = • { anniv-years }: { anniv-customers }
anniv-preview-skipped = Пропущены: отписались { $opted_out }, недоступны { $unreachable }. Уже поблагодарили: { $already }.
anniv-preview-language = Пример ({ $lang_name }):
anniv-preview-none = { $date } годовщин нет.
anniv-preview-all-done = Всех, у кого годовщина { $date }, уже поблагодарили ({ $already }).
anniv-button-send = ✅ Отправить ({ $count })
anniv-button-cancel = ✖️ Отмена
anniv-cancelled = Отменено: ничего не отправлено.
anniv-date-invalid = Укажите дату в виде ГГГГ-ММ-ДД, например: /anniversaries 2026-12-01
anniv-language-en = английский
anniv-language-ru = русский
anniv-language-uk = украинский

## Во время отправки и в конце.
anniv-progress = Отправляем благодарности за { $date }… отправлено { $sent } / ошибок { $failed } / осталось { $left }
anniv-summary =
    Благодарности за { $date } отправлены.
    Отправлено: { $sent }. Ошибок: { $failed }.
    Пропущены: отписались { $opted_out }, недоступны { $unreachable }. Поблагодарили раньше: { $already }.
anniv-auto-title = Автоматическая отправка к годовщинам ({ $time }):
anniv-nothing-to-send = За { $date } отправлять нечего: новых годовщин нет.

## Карточка клиента (/customer). Отсутствующие значения передаются как «—».
admin-customer-usage = Использование: /customer телефон, Telegram id, внешний id, @username или #номер
admin-customer-not-found = Клиент «{ $query }» не найден.
admin-customer-ambiguous = Под «{ $query }» подходят несколько клиентов ({ $count }). Добавьте префикс: tg:, ext:, phone: или # (номер клиента).
admin-customer-title = 👤 Клиент #{ $id }
admin-customer-name = Имя: { $name }
admin-customer-contacts = Telegram: { $telegram_id } { $username } · телефон: { $phone } · внешний id: { $external_id }
admin-customer-since = Клиент с { $date } · язык: { $lang_name }
admin-customer-visits = Визитов: { $count }
admin-customer-visit-line = • { $date } — { $location }
admin-customer-answers = Ответов: { $count }
admin-customer-answer-line = • { $date } — NPS { $nps }, CES { $ces }: { $reason }
admin-customer-cases = Обращений: { $count } (открыто: { $open })
admin-customer-status-active = Статус: получает опросы
admin-customer-status-opted-out = Статус: отписался (ничего не отправляем)
admin-customer-status-unreachable = Статус: недоступен ({ $reason })
admin-customer-status-forgotten = Статус: личные данные удалены { $date }
admin-customer-button-forget = 🗑 Удалить данные клиента

## Удаление личных данных (/forget) администратором или самим клиентом.
admin-forget-usage =
    Чтобы удалить личные данные клиента: /forget телефон, Telegram id, внешний id, @username или #номер
    Чтобы удалить собственные данные как клиента: /forget me
admin-forget-confirm = Удалить личные данные клиента #{ $id }? Его оценки останутся в отчётах анонимно. Отменить это нельзя.
admin-forget-button-confirm = 🗑 Да, удалить
admin-forget-button-cancel = Отмена
admin-forget-done = Готово: личные данные клиента #{ $id } удалены.
admin-forget-already = Данные клиента #{ $id } уже были удалены.
admin-forget-cancelled = Отменено: ничего не удалено.
admin-forget-self-confirm = Удалить всё, что мы о вас знаем (имя, телефон, ваши комментарии)? Анонимные оценки останутся в статистике. Вернуться можно в любой момент командой /start.
admin-forget-self-done = Готово: ваши личные данные удалены. Спасибо, что были с нами!
admin-forget-self-nothing = Мы не храним о вас личных данных.

## Другие инструменты администратора.
admin-qr-usage = Использование: /qr код — код точки из каталога (см. /locations), например: /qr main-street
admin-qr-unknown = «{ $location }» нет в каталоге (см. /locations): сначала добавьте точку, потом сделайте QR-код.
admin-qr-caption = QR-код для точки { $location }. Клиент, отсканировавший его, откроет бота: { $link }
admin-broadcast-test-intro = Так опрос выглядит для клиента. Ваши ответы не попадут в отчёты.
admin-help =
    Команды администратора:
    /anniversaries [ГГГГ-ММ-ДД] — годовщины сегодня (или в этот день) с кнопкой «Отправить»
    /customer телефон|id — карточка клиента
    /forget телефон|id — удалить личные данные клиента
    /forget me — удалить собственные данные как клиента
    /locations — точки сети, регионы и их чаты
    /qr точка — QR-код для стойки
    /broadcast_test — прислать себе опрос так, как его видит клиент
