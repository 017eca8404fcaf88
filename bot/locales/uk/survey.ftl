## Тексти для клієнтів: старт, прив'язка, опитування, відписка.

start-welcome = Вітаємо, { $name }! Це { $company }. Після ваших візитів ми поставимо два короткі запитання про наш сервіс: це два натискання, і це допомагає нам ставати кращими.
start-share-phone = Щоб ми впізнавали ваші візити, можна поділитися номером телефону кнопкою нижче. Це необов'язково.
start-share-phone-button = 📱 Поділитися номером
start-linked = Дякуємо, { $name }: ваш обліковий запис клієнта { $company } прив'язано до цього чату.
start-link-invalid = Це посилання більше не дійсне. Ви все одно зареєстровані, дякуємо!
start-visit-registered = Дякуємо, що відвідали { $location }! Незабаром ми запитаємо вашу думку.
start-visit-skipped = Дякуємо, що відвідали { $location }!
start-phone-saved = Дякуємо! Номер телефону збережено.
start-phone-not-yours = Будь ласка, поділіться своїм контактом кнопкою нижче.
start-back = З поверненням! Опитування знову увімкнено. Щоб зупинити їх, надішліть /stop.
help-text = { $company } запитує вашу думку після візиту. Команди: /stop — не надсилати опитування, /start — увімкнути їх знову, /forget — видалити ваші особисті дані.

stop-done = Готово: ми більше не надсилатимемо вам опитування. Якщо передумаєте, надішліть /start.
stop-unknown = Ви ще не отримували від нас опитувань. Надішліть /start, щоб почати.

survey-intro = Дякуємо, що відвідали { $location }!
survey-intro-no-location = Дякуємо, що обрали { $company }!
survey-intro-yesterday = Дякуємо, що вчора відвідали { $location }! Як усе минуло?
survey-intro-no-location-yesterday = Дякуємо, що вчора обрали { $company }! Як усе минуло?
survey-nps-question = Наскільки ймовірно, що ви порекомендуєте { $company } другу чи колезі?
survey-nps-scale = 0 — точно ні, 10 — обов'язково порекомендую.
survey-ces-question = «{ $company } подбала, щоб я легко отримав те, по що прийшов». Ви згодні?
survey-ces-scale = 1 — зовсім не згоден, 7 — повністю згоден.
survey-your-score = Ваша оцінка: { $score }
survey-reason-detractor = Нам шкода, що ми вас підвели. Що пішло не так? Напишіть, будь ласка, повідомленням: його прочитає менеджер.
survey-reason-passive = Дякуємо! Що нам зробити краще, щоб заслужити 10? Напишіть, будь ласка, повідомленням.
survey-reason-promoter = Дякуємо! Що вам сподобалося найбільше? Напишіть, будь ласка, повідомленням.
survey-skip = Пропустити
survey-thanks = Дякуємо за ваш відгук! Він допомагає нам ставати кращими.
survey-thanks-detractor = Дякуємо, що розповіли. Менеджер обов'язково розбереться.
survey-closed = Це опитування закрите. Дякуємо!
survey-not-yours = Ця кнопка не для вас.
survey-button-invalid = Ця кнопка недійсна. Будь ласка, скористайтеся кнопками опитування.
survey-already-answered = Ви вже відповіли на це запитання.
survey-reminder = Невелике нагадування: нам важлива ваша думка про візит до { $location }. Опитування вище займає два натискання.
survey-reminder-no-location = Невелике нагадування: нам важлива ваша думка про { $company }. Опитування вище займає два натискання.
survey-use-buttons = Будь ласка, дайте відповідь кнопками опитування вище.
survey-type-score = Будь ласка, натисніть оцінку в опитуванні вище або напишіть число від { $low } до { $high }.
survey-no-open = Дякуємо за повідомлення! Якщо захочете розповісти про візит, ми запитаємо вас після наступного.

alert-title = ⚠️ Незадоволений клієнт
alert-nps = NPS: { $score }
alert-ces = CES: { $score }
alert-ces-pending = CES: ще не відповів
alert-reason = Причина: { $reason }
alert-topics = Теми: { $topics }
alert-reason-pending = Причина: ще не вказана
alert-reason-skipped = Причина: пропущена
alert-customer = Клієнт: { $name }
alert-contact = Контакт: { $contact }
alert-location = Точка: { $location }
alert-staff = Працівник: { $staff }
alert-touchpoint = Точка контакту: { $touchpoint }
alert-visit-time = Візит: { $time }
alert-unknown = —
