# Кейсы: работа с недовольным клиентом до конца. Тексты для менеджеров — на языке
# менеджера; case-template-*, case-customer-* и case-followup-* адресованы
# клиенту, на языке клиента.

## Строка статуса в карточке

case-status-new = 🆕 Новый: ещё никто не взял
case-status-taken = 👤 Взял { $owner } в { $time }
case-status-resolved = ✅ Решён, { $owner }, { $time }
case-status-closed = ⛔ Закрыт без решения, { $owner }: { $reason }

## Карточка в чате менеджеров

case-card-title = 🚨 Кейс #{ NUMBER($id, useGrouping: 0) } · NPS { $nps }
case-card-ces = Усилия (CES): { $ces } из 7
case-card-reason = Почему: { $reason }
case-card-no-reason = Почему: (без ответа)
case-card-customer = Клиент: { $name } ({ $contact })
case-card-location = Точка: { $location }
case-card-staff = Сотрудник: { $staff }
case-card-visit = Визит: { $time }
case-card-resolution = Решение: { $note }
case-card-followup = { $answer ->
    [yes] Повторный опрос: клиент говорит, что проблема решена 👍
   *[other] Повторный опрос: клиент говорит, что проблема не решена 👎
}
case-card-reopened = 🔁 Открыт заново { $count ->
    [one] { $count } раз
    [few] { $count } раза
   *[many] { $count } раз
}: клиент говорит, что проблема не решена

## Кнопки

case-button-take = 🙋 Взять
case-button-write = ✉️ Написать клиенту
case-button-templates = 📝 Шаблоны
case-button-resolve = ✅ Решено
case-button-close = ⛔ Закрыть без решения
case-button-resolve-notify = ✅ Решено, сообщить клиенту
case-button-resolve-silent = Решено, не сообщать
case-button-cancel = Отмена
case-button-send = ✅ Отправить
case-button-without-date = Без даты
case-button-without-bonus = Без бонуса

case-template-button-thank = 1. Поблагодарить
case-template-button-apologise = 2. Извиниться
case-template-button-apologise-bonus = 2. Извиниться + бонус
case-template-button-promise-fix = 3. Пообещать исправить к дате
case-template-button-cannot-fix = 3. Честно: исправить нельзя
case-template-button-improved = 5. Стало лучше благодаря вам

## Шаблоны для клиента (можно изменить перед отправкой)

case-template-thank = Спасибо, что рассказали нам, что пошло не так. Благодаря таким отзывам { $company } становится лучше, и мы относимся к ним серьёзно.
case-template-apologise = Нам жаль, что визит прошёл не так, как должен был. Это не тот сервис, который { $company } хочет вам давать.
case-template-apologise-bonus = Нам жаль, что визит прошёл не так, как должен был. В качестве извинения { $company } предлагает вам { $bonus }.
case-template-promise-fix = Мы уже занимаемся этим. Срок исправления: { $date }. Мы сообщим вам, когда всё будет готово.
case-template-cannot-fix = Скажем честно: сейчас мы не можем это изменить. Мы учтём ваш отзыв — спасибо за понимание.
case-template-improved = Благодаря вам сервис { $company } стал лучше: мы исправили проблему, о которой вы рассказали. Спасибо, что помогаете нам расти!
case-template-promise-fix-without = Мы уже занимаемся этим и сообщим вам, как только всё исправим.
case-template-apologise-bonus-without = Нам жаль, что визит прошёл не так, как должен был. Это не тот сервис, который { $company } хочет вам давать.
case-template-ask-date = Кейс #{ NUMBER($id, useGrouping: 0) }: к какому сроку исправите? Напишите срок так, как его прочтёт клиент (например, «пятница, 12 декабря»), или отправьте шаблон без даты.
case-template-ask-bonus = Кейс #{ NUMBER($id, useGrouping: 0) }: что вы предлагаете клиенту? Напишите так, как это прочтёт клиент (например, «бесплатный кофе при следующем визите»), или отправьте шаблон без бонуса.
case-template-value-invalid = Напишите, пожалуйста, от 1 до 200 символов.
case-template-preview = Кейс #{ NUMBER($id, useGrouping: 0) }: клиент получит это сообщение. Нажмите «Отправить» или напишите свой текст вместо него.

    { $text }

## Что видит клиент, когда пишет менеджер

case-customer-message = 💬 { $company }: { $text }
case-customer-ack = ✅ Спасибо! Ваше сообщение передано команде.

## Повторный вопрос клиенту через несколько дней после решения

case-followup-question = Недавно вы рассказали { $company } о проблеме, и мы над ней работали. У нас получилось её решить?
case-followup-yes = 👍 Да, решено
case-followup-no = 👎 Нет
case-followup-thanks-yes = Спасибо! Рады, что всё исправлено.
case-followup-thanks-no = Спасибо, что сказали. Мы разберёмся ещё раз.

## Ответы на нажатия и команды

case-refused-not-found = Такого кейса нет.
case-refused-not-allowed = Это может сделать только менеджер, который взял кейс (или администратор).
case-refused-not-a-manager = Работать с кейсами может только команда менеджеров.
case-refused-other-branch = Это кейс другого филиала: с ним работает чат менеджеров этого филиала.
case-refused-wrong-chat = Кнопки кейсов работают только в чате менеджеров.
case-refused-already-taken-by = Кейс уже взял { $owner }.
case-refused-not-taken = Сначала возьмите кейс.
case-refused-already-closed = Кейс уже закрыт.
case-refused-invalid-transition = В текущем состоянии кейса это сделать нельзя.
case-refused-text-required = Напишите хотя бы несколько слов: текст не может быть пустым.
case-refused-followup-not-sent = Здесь не на что отвечать.
case-refused-already-answered = Вы уже ответили. Спасибо!
case-refused-not-your-prompt = Отменить это может только менеджер, который это начал.
case-refused-nothing-to-send = Здесь нечего отправлять: выберите шаблон заново.

case-done-taken = Кейс ваш.
case-done-already-yours = Этот кейс уже ваш.
case-done-resolved = Кейс решён.
case-done-closed = Кейс закрыт.
case-done-message-sent = Отправлено клиенту.
case-done-note = Заметка сохранена.

## Подсказки, пока менеджер работает с кейсом

case-prompt-message = Напишите сообщение клиенту по кейсу #{ NUMBER($id, useGrouping: 0) }. Оно уйдёт от бота; ваш аккаунт клиент не увидит.
case-prompt-templates = Выберите шаблон для кейса #{ NUMBER($id, useGrouping: 0) }; перед отправкой вы увидите точный текст.
case-prompt-resolve-notify = Кейс #{ NUMBER($id, useGrouping: 0) }: сообщить клиенту, что проблема решена?
case-prompt-resolve-note = Кейс #{ NUMBER($id, useGrouping: 0) }: коротко, что было сделано?
case-prompt-close-reason = Кейс #{ NUMBER($id, useGrouping: 0) }: почему закрываем без решения?
case-prompt-cancelled = Отменено.
case-prompt-chosen = ➡️ { $choice }

## Переписка по кейсу в чате менеджеров

case-thread-in = 💬 Кейс #{ NUMBER($id, useGrouping: 0) }, { $customer }: { $text }
case-thread-out = ↩️ Кейс #{ NUMBER($id, useGrouping: 0) }, { $owner } клиенту: { $text }

## Эскалация по SLA

case-escalation-take = ⏰ { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } ждёт уже { $age }, и никто его не взял.
case-escalation-resolve = ⏰ { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } (взял { $owner }) не решён уже { $age }.
case-reopened-owner = 🔁 { $mention } Кейс #{ NUMBER($id, useGrouping: 0) } снова открыт: клиент говорит, что проблема не решена. Он снова ваш; решите его до { $due }.
case-reopened-nobody = 🔁 Кейс #{ NUMBER($id, useGrouping: 0) } снова открыт: клиент говорит, что проблема не решена. У него нет ответственного: возьмите его до { $due }.

## Возраст

case-age-minutes = { $count ->
    [one] { $count } минуту
    [few] { $count } минуты
   *[many] { $count } минут
}
case-age-hours = { $count ->
    [one] { $count } час
    [few] { $count } часа
   *[many] { $count } часов
}
case-age-days = { $count ->
    [one] { $count } день
    [few] { $count } дня
   *[many] { $count } дней
}

## /cases

case-list-title = { $count ->
    [one] { $count } открытый кейс, сначала старые:
    [few] { $count } открытых кейса, сначала старые:
   *[many] { $count } открытых кейсов, сначала старые:
}
case-list-empty = Открытых кейсов нет. 🎉
case-list-status-new = новый
case-list-status-taken = у { $owner }
case-list-line = #{ NUMBER($id, useGrouping: 0) } · { $status } · { $age } назад · { $customer } · NPS { $nps }

## /case <номер>

case-usage = Использование: /case 12 (номер кейса)
case-history-title = Кейс #{ NUMBER($id, useGrouping: 0) }
case-actor-system = бот
case-event-opened = { $time } открыт
case-event-taken = { $time } взял { $actor }
case-event-message-out = { $time } { $actor } → клиенту: { $text }
case-event-message-in = { $time } клиент { $actor }: { $text }
case-event-escalated = { $time } { $text ->
    [take] эскалация: не взят вовремя
   *[other] эскалация: не решён вовремя
}
case-event-resolved = { $time } решён, { $actor }: { $text }
case-event-closed = { $time } закрыт без решения, { $actor }: { $text }
case-event-followup-sent = { $time } отправлен вопрос «У нас получилось решить?»
case-event-followup-answer = { $time } { $text ->
    [yes] клиент говорит, что проблема решена
   *[other] клиент говорит, что проблема не решена
}
case-event-reopened = { $time } открыт заново: клиент говорит, что проблема не решена
case-event-note = { $time } заметка, { $actor }: { $text }

## Много алертов сразу: ожидающие собраны в одно сообщение

case-fold-title = { $count ->
    [one] 🚨 Ещё { $count } недовольный клиент, собран в одно сообщение:
    [few] 🚨 Ещё { $count } недовольных клиента сразу, собраны в одно сообщение:
   *[many] 🚨 Ещё { $count } недовольных клиентов сразу, собраны в одно сообщение:
}
case-fold-hint = 🙋 #N — взять кейс N; когда кейс взят, 📋 #N открывает его карточку со всеми кнопками.
case-fold-score-nps = NPS { $nps }
case-fold-score-ces = CES { $ces } из 7
case-fold-reason = «{ $reason }»
case-fold-status-new = 🆕 новый
case-fold-status-taken = 👤 { $owner }
case-fold-status-resolved = ✅ { $owner }
case-fold-status-closed = ⛔ { $owner }
case-fold-button-take = 🙋 #{ NUMBER($id, useGrouping: 0) }
case-fold-button-open = 📋 #{ NUMBER($id, useGrouping: 0) }

## Отзыв без опроса: клиент написал сам, когда опроса и открытого обращения не было.
unprompted-title = 📨 Отзыв без опроса
unprompted-no-score = Клиент написал сам: без опроса и без оценки.
unprompted-message = Сообщение: { $text }
unprompted-location = Точка: { $location } (последний визит)
unprompted-no-location = Точка: визитов нет (головной офис)
unprompted-written = Получено: { $time }
unprompted-thanks = ✅ Спасибо, что написали нам! Ваше сообщение передано команде, менеджер ответит здесь.
