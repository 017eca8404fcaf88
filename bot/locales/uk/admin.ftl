## Подяки до річниць і команди адміністратора. Звичайний текст (без HTML).

## Подяка, яку отримує клієнт. $name, $years (число), $company.
anniv-years = { $years ->
    [one] { $years } рік
    [few] { $years } роки
   *[many] { $years } років
}
anniv-message = { $name }, дякуємо, що ви з нами вже { anniv-years }! Ми дуже цінуємо вашу довіру. — { $company }
anniv-message-anonymous = Дякуємо, що ви з нами вже { anniv-years }! Ми дуже цінуємо вашу довіру. — { $company }

## Що бачить адміністратор перед надсиланням. $count — кількість клієнтів.
anniv-customers = { $count ->
    [one] { $count } клієнт
    [few] { $count } клієнти
   *[many] { $count } клієнтів
}
anniv-preview-title = 🎉 Річниці { $date }: { anniv-customers }.
anniv-preview-group = • { anniv-years }: { anniv-customers }
anniv-preview-skipped = Пропущено: відписалися { $opted_out }, недоступні { $unreachable }. Уже подякували: { $already }.
anniv-preview-language = Приклад ({ $lang_name }):
anniv-preview-none = { $date } річниць немає.
anniv-preview-all-done = Усім, у кого річниця { $date }, уже подякували ({ $already }).
anniv-button-send = ✅ Надіслати ({ $count })
anniv-button-cancel = ✖️ Скасувати
anniv-cancelled = Скасовано: нічого не надіслано.
anniv-date-invalid = Вкажіть дату у вигляді РРРР-ММ-ДД, наприклад: /anniversaries 2026-12-01
anniv-language-en = англійська
anniv-language-ru = російська
anniv-language-uk = українська

## Під час надсилання і наприкінці.
anniv-progress = Надсилаємо подяки за { $date }… надіслано { $sent } / помилок { $failed } / залишилося { $left }
anniv-summary =
    Подяки за { $date } надіслано.
    Надіслано: { $sent }. Помилок: { $failed }.
    Пропущено: відписалися { $opted_out }, недоступні { $unreachable }. Подякували раніше: { $already }.
anniv-auto-title = Автоматичне надсилання до річниць ({ $time }):
anniv-nothing-to-send = За { $date } надсилати нічого: нових річниць немає.

## Картка клієнта (/customer). Відсутні значення передаються як «—».
admin-customer-usage = Використання: /customer телефон, Telegram id, зовнішній id, @username або #номер
admin-customer-not-found = Клієнта «{ $query }» не знайдено.
admin-customer-ambiguous = Під «{ $query }» підходять кілька клієнтів ({ $count }). Додайте префікс: tg:, ext:, phone: або # (номер клієнта).
admin-customer-title = 👤 Клієнт #{ $id }
admin-customer-name = Ім'я: { $name }
admin-customer-contacts = Telegram: { $telegram_id } { $username } · телефон: { $phone } · зовнішній id: { $external_id }
admin-customer-since = Клієнт з { $date } · мова: { $lang_name }
admin-customer-visits = Візитів: { $count }
admin-customer-visit-line = • { $date } — { $location }
admin-customer-answers = Відповідей: { $count }
admin-customer-answer-line = • { $date } — NPS { $nps }, CES { $ces }: { $reason }
admin-customer-cases = Звернень: { $count } (відкрито: { $open })
admin-customer-status-active = Статус: отримує опитування
admin-customer-status-opted-out = Статус: відписався (нічого не надсилаємо)
admin-customer-status-unreachable = Статус: недоступний ({ $reason })
admin-customer-status-forgotten = Статус: особисті дані видалено { $date }
admin-customer-button-forget = 🗑 Видалити дані клієнта

## Видалення особистих даних (/forget) адміністратором або самим клієнтом.
admin-forget-usage =
    Щоб видалити особисті дані клієнта: /forget телефон, Telegram id, зовнішній id, @username або #номер
    Щоб видалити власні дані як клієнта: /forget me
admin-forget-confirm = Видалити особисті дані клієнта #{ $id }? Його оцінки залишаться у звітах анонімно. Скасувати це неможливо.
admin-forget-button-confirm = 🗑 Так, видалити
admin-forget-button-cancel = Скасувати
admin-forget-done = Готово: особисті дані клієнта #{ $id } видалено.
admin-forget-already = Дані клієнта #{ $id } уже було видалено.
admin-forget-cancelled = Скасовано: нічого не видалено.
admin-forget-self-confirm = Видалити все, що ми про вас знаємо (ім'я, телефон, ваші коментарі)? Анонімні оцінки залишаться в статистиці. Повернутися можна будь-коли командою /start.
admin-forget-self-done = Готово: ваші особисті дані видалено. Дякуємо, що були з нами!
admin-forget-self-nothing = Ми не зберігаємо про вас особистих даних.

## Інші інструменти адміністратора.
admin-qr-usage = Використання: /qr код — код точки з каталогу (див. /locations), наприклад: /qr main-street
admin-qr-unknown = «{ $location }» немає в каталозі (див. /locations): спершу додайте точку, потім зробіть QR-код.
admin-qr-caption = QR-код для точки { $location }. Клієнт, який його відсканує, відкриє бота: { $link }
admin-broadcast-test-intro = Так опитування виглядає для клієнта. Ваші відповіді не потраплять у звіти.
admin-help =
    Команди адміністратора:
    /anniversaries [РРРР-ММ-ДД] — річниці сьогодні (або цього дня) з кнопкою «Надіслати»
    /customer телефон|id — картка клієнта
    /forget телефон|id — видалити особисті дані клієнта
    /forget me — видалити власні дані як клієнта
    /locations — точки мережі, регіони та їхні чати
    /qr точка — QR-код для стійки
    /broadcast_test — надіслати собі опитування так, як його бачить клієнт
