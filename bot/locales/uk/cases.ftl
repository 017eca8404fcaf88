# Кейси: робота з незадоволеним клієнтом до кінця. Тексти для менеджерів — мовою
# менеджера; case-template-*, case-customer-* і case-followup-* адресовані
# клієнту, його мовою.

## Рядок статусу в картці

case-status-new = 🆕 Новий: ще ніхто не взяв
case-status-taken = 👤 Взяв { $owner } о { $time }
case-status-resolved = ✅ Вирішено, { $owner }, { $time }
case-status-closed = ⛔ Закрито без вирішення, { $owner }: { $reason }

## Картка в чаті менеджерів

case-card-title = 🚨 Кейс #{ NUMBER($id, useGrouping: 0) } · NPS { $nps }
case-card-ces = Зусилля (CES): { $ces } з 7
case-card-reason = Чому: { $reason }
case-card-no-reason = Чому: (без відповіді)
case-card-customer = Клієнт: { $name } ({ $contact })
case-card-location = Точка: { $location }
case-card-staff = Працівник: { $staff }
case-card-visit = Візит: { $time }
case-card-resolution = Рішення: { $note }
case-card-followup = { $answer ->
    [yes] Повторне опитування: клієнт каже, що проблему вирішено 👍
   *[other] Повторне опитування: клієнт каже, що проблему не вирішено 👎
}
case-card-reopened = 🔁 Відкрито знову { $count ->
    [one] { $count } раз
    [few] { $count } рази
   *[many] { $count } разів
}: клієнт каже, що проблему не вирішено

## Кнопки

case-button-take = 🙋 Взяти
case-button-write = ✉️ Написати клієнту
case-button-templates = 📝 Шаблони
case-button-resolve = ✅ Вирішено
case-button-close = ⛔ Закрити без вирішення
case-button-resolve-notify = ✅ Вирішено, повідомити клієнта
case-button-resolve-silent = Вирішено, не повідомляти
case-button-cancel = Скасувати
case-button-send = ✅ Надіслати
case-button-without-date = Без дати
case-button-without-bonus = Без бонусу

case-template-button-thank = 1. Подякувати
case-template-button-apologise = 2. Вибачитися
case-template-button-apologise-bonus = 2. Вибачитися + бонус
case-template-button-promise-fix = 3. Пообіцяти виправити до дати
case-template-button-cannot-fix = 3. Чесно: виправити не можна
case-template-button-improved = 5. Стало краще завдяки вам

## Шаблони для клієнта (можна змінити перед надсиланням)

case-template-thank = Дякуємо, що розповіли нам, що пішло не так. Завдяки таким відгукам { $company } стає кращим, і ми ставимося до них серйозно.
case-template-apologise = Нам шкода, що візит пройшов не так, як мав. Це не той сервіс, який { $company } хоче вам давати.
case-template-apologise-bonus = Нам шкода, що візит пройшов не так, як мав. На знак вибачення { $company } пропонує вам { $bonus }.
case-template-promise-fix = Ми вже працюємо над цим. Термін виправлення: { $date }. Ми повідомимо вас, коли все буде готово.
case-template-cannot-fix = Скажемо чесно: зараз ми не можемо цього змінити. Ми врахуємо ваш відгук — дякуємо за розуміння.
case-template-improved = Завдяки вам сервіс { $company } став кращим: ми виправили проблему, про яку ви розповіли. Дякуємо, що допомагаєте нам зростати!
case-template-promise-fix-without = Ми вже працюємо над цим і повідомимо вас, щойно все виправимо.
case-template-apologise-bonus-without = Нам шкода, що візит пройшов не так, як мав. Це не той сервіс, який { $company } хоче вам давати.
case-template-ask-date = Кейс #{ NUMBER($id, useGrouping: 0) }: до якого терміну виправите? Напишіть термін так, як його прочитає клієнт (наприклад, «пʼятниця, 12 грудня»), або надішліть шаблон без дати.
case-template-ask-bonus = Кейс #{ NUMBER($id, useGrouping: 0) }: що ви пропонуєте клієнтові? Напишіть так, як це прочитає клієнт (наприклад, «безкоштовна кава під час наступного візиту»), або надішліть шаблон без бонусу.
case-template-value-invalid = Напишіть, будь ласка, від 1 до 200 символів.
case-template-preview = Кейс #{ NUMBER($id, useGrouping: 0) }: клієнт отримає це повідомлення. Натисніть «Надіслати» або напишіть свій текст замість нього.

    { $text }

## Що бачить клієнт, коли пише менеджер

case-customer-message = 💬 { $company }: { $text }
case-customer-ack = ✅ Дякуємо! Ваше повідомлення передано команді.

## Повторне запитання клієнту через кілька днів після вирішення

case-followup-question = Нещодавно ви розповіли { $company } про проблему, і ми над нею працювали. Чи вдалося нам її вирішити?
case-followup-yes = 👍 Так, вирішено
case-followup-no = 👎 Ні
case-followup-thanks-yes = Дякуємо! Раді, що все виправлено.
case-followup-thanks-no = Дякуємо, що сказали. Ми розберемося ще раз.

## Відповіді на натискання і команди

case-refused-not-found = Такого кейсу немає.
case-refused-not-allowed = Це може зробити лише менеджер, який взяв кейс (або адміністратор).
case-refused-not-a-manager = Працювати з кейсами може лише команда менеджерів.
case-refused-other-branch = Це кейс іншої філії: з ним працює чат менеджерів цієї філії.
case-refused-wrong-chat = Кнопки кейсів працюють лише в чаті менеджерів.
case-refused-already-taken-by = Кейс уже взяв { $owner }.
case-refused-not-taken = Спершу візьміть кейс.
case-refused-already-closed = Кейс уже закрито.
case-refused-invalid-transition = У поточному стані кейсу це зробити не можна.
case-refused-text-required = Напишіть хоча б кілька слів: текст не може бути порожнім.
case-refused-followup-not-sent = Тут немає на що відповідати.
case-refused-already-answered = Ви вже відповіли. Дякуємо!
case-refused-not-your-prompt = Скасувати це може лише менеджер, який це розпочав.
case-refused-nothing-to-send = Тут нічого надсилати: оберіть шаблон знову.

case-done-taken = Кейс ваш.
case-done-already-yours = Цей кейс уже ваш.
case-done-resolved = Кейс вирішено.
case-done-closed = Кейс закрито.
case-done-message-sent = Надіслано клієнту.
case-done-note = Нотатку збережено.

## Підказки, поки менеджер працює з кейсом

case-prompt-message = Напишіть повідомлення клієнту щодо кейсу #{ NUMBER($id, useGrouping: 0) }. Воно піде від бота; вашого акаунта клієнт не побачить.
case-prompt-templates = Оберіть шаблон для кейсу #{ NUMBER($id, useGrouping: 0) }; перед надсиланням ви побачите точний текст.
case-prompt-resolve-notify = Кейс #{ NUMBER($id, useGrouping: 0) }: повідомити клієнта, що проблему вирішено?
case-prompt-resolve-note = Кейс #{ NUMBER($id, useGrouping: 0) }: коротко, що було зроблено?
case-prompt-close-reason = Кейс #{ NUMBER($id, useGrouping: 0) }: чому закриваємо без вирішення?
case-prompt-cancelled = Скасовано.
case-prompt-chosen = ➡️ { $choice }

## Листування щодо кейсу в чаті менеджерів

case-thread-in = 💬 Кейс #{ NUMBER($id, useGrouping: 0) }, { $customer }: { $text }
case-thread-out = ↩️ Кейс #{ NUMBER($id, useGrouping: 0) }, { $owner } клієнту: { $text }

## Ескалація за SLA

case-escalation-take = ⏰ { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } чекає вже { $age }, і ніхто його не взяв.
case-escalation-resolve = ⏰ { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } (взяв { $owner }) не вирішено вже { $age }.
case-reopened-owner = 🔁 { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } знову відкрито: клієнт каже, що проблему не вирішено. Він знову ваш; вирішіть його до { $due }.
case-reopened-nobody = 🔁 Кейс #{ NUMBER($id, useGrouping: 0) } знову відкрито: клієнт каже, що проблему не вирішено. У нього немає відповідального: візьміть його до { $due }.

## Вік

case-age-minutes = { $count ->
    [one] { $count } хвилину
    [few] { $count } хвилини
   *[many] { $count } хвилин
}
case-age-hours = { $count ->
    [one] { $count } годину
    [few] { $count } години
   *[many] { $count } годин
}
case-age-days = { $count ->
    [one] { $count } день
    [few] { $count } дні
   *[many] { $count } днів
}

## /cases

case-list-title = { $count ->
    [one] { $count } відкритий кейс, спершу старі:
    [few] { $count } відкриті кейси, спершу старі:
   *[many] { $count } відкритих кейсів, спершу старі:
}
case-list-empty = Відкритих кейсів немає. 🎉
case-list-status-new = новий
case-list-status-taken = у { $owner }
case-list-line = #{ NUMBER($id, useGrouping: 0) } · { $status } · { $age } тому · { $customer } · NPS { $nps }

## /case <номер>

case-usage = Використання: /case 12 (номер кейсу)
case-history-title = Кейс #{ NUMBER($id, useGrouping: 0) }
case-actor-system = бот
case-event-opened = { $time } відкрито
case-event-taken = { $time } взяв { $actor }
case-event-message-out = { $time } { $actor } → клієнту: { $text }
case-event-message-in = { $time } клієнт { $actor }: { $text }
case-event-escalated = { $time } { $text ->
    [take] ескалація: не взято вчасно
   *[other] ескалація: не вирішено вчасно
}
case-event-resolved = { $time } вирішено, { $actor }: { $text }
case-event-closed = { $time } закрито без вирішення, { $actor }: { $text }
case-event-followup-sent = { $time } надіслано запитання «Чи вдалося нам вирішити?»
case-event-followup-answer = { $time } { $text ->
    [yes] клієнт каже, що проблему вирішено
   *[other] клієнт каже, що проблему не вирішено
}
case-event-reopened = { $time } відкрито знову: клієнт каже, що проблему не вирішено
case-event-note = { $time } нотатка, { $actor }: { $text }

## Багато алертів одразу: ті, що чекають, зібрані в одне повідомлення

case-fold-title = { $count ->
    [one] 🚨 Ще { $count } незадоволений клієнт, зібраний в одне повідомлення:
    [few] 🚨 Ще { $count } незадоволені клієнти одразу, зібрані в одне повідомлення:
   *[many] 🚨 Ще { $count } незадоволених клієнтів одразу, зібрані в одне повідомлення:
}
case-fold-hint = 🙋 #N — взяти кейс N; коли кейс взято, 📋 #N відкриває його картку з усіма кнопками.
case-fold-score-nps = NPS { $nps }
case-fold-score-ces = CES { $ces } з 7
case-fold-reason = «{ $reason }»
case-fold-status-new = 🆕 новий
case-fold-status-taken = 👤 { $owner }
case-fold-status-resolved = ✅ { $owner }
case-fold-status-closed = ⛔ { $owner }
case-fold-button-take = 🙋 #{ NUMBER($id, useGrouping: 0) }
case-fold-button-open = 📋 #{ NUMBER($id, useGrouping: 0) }

## Відгук без опитування: клієнт написав сам, коли опитування й відкритого звернення не було.
unprompted-title = 📨 Відгук без опитування
unprompted-no-score = Клієнт написав сам: без опитування й без оцінки.
unprompted-message = Повідомлення: { $text }
unprompted-location = Точка: { $location } (останній візит)
unprompted-no-location = Точка: візитів немає (головний офіс)
unprompted-written = Отримано: { $time }
unprompted-thanks = ✅ Дякуємо, що написали нам! Ваше повідомлення передано команді, менеджер відповість тут.
