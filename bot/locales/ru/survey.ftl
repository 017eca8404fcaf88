## Тексты для клиентов: старт, привязка, опрос, отписка.

start-welcome = Здравствуйте, { $name }! Это { $company }. После ваших визитов мы зададим два коротких вопроса о нашем сервисе: это два нажатия, и это помогает нам стать лучше.
start-share-phone = Чтобы мы узнавали ваши визиты, можно поделиться номером телефона кнопкой ниже. Это необязательно.
start-share-phone-button = 📱 Поделиться номером
start-linked = Спасибо, { $name }: ваш аккаунт клиента { $company } привязан к этому чату.
start-link-invalid = Эта ссылка больше не действует. Вы всё равно зарегистрированы, спасибо!
start-visit-registered = Спасибо, что посетили { $location }! Скоро мы спросим ваше мнение.
start-visit-skipped = Спасибо, что посетили { $location }!
start-phone-saved = Спасибо! Номер телефона сохранён.
start-phone-not-yours = Пожалуйста, поделитесь своим контактом кнопкой ниже.
start-back = С возвращением! Опросы снова включены. Чтобы остановить их, отправьте /stop.
help-text = { $company } спрашивает ваше мнение после визита. Команды: /stop — не присылать опросы, /start — включить их снова, /forget — удалить ваши личные данные.

stop-done = Готово: мы больше не будем присылать вам опросы. Если передумаете, отправьте /start.
stop-unknown = Вы ещё не получали от нас опросов. Отправьте /start, чтобы начать.

survey-intro = Спасибо, что посетили { $location }!
survey-intro-no-location = Спасибо, что выбрали { $company }!
survey-intro-yesterday = Спасибо, что вчера посетили { $location }! Как всё прошло?
survey-intro-no-location-yesterday = Спасибо, что вчера выбрали { $company }! Как всё прошло?
survey-nps-question = Насколько вероятно, что вы порекомендуете { $company } другу или коллеге?
survey-nps-scale = 0 — точно нет, 10 — обязательно порекомендую.
survey-ces-question = «{ $company } позаботилась о том, чтобы я легко получил то, за чем пришёл». Вы согласны?
survey-ces-scale = 1 — совсем не согласен, 7 — полностью согласен.
survey-your-score = Ваша оценка: { $score }
survey-reason-detractor = Нам жаль, что мы вас подвели. Что пошло не так? Напишите, пожалуйста, сообщением: его прочитает менеджер.
survey-reason-passive = Спасибо! Что нам сделать лучше, чтобы заслужить 10? Напишите, пожалуйста, сообщением.
survey-reason-promoter = Спасибо! Что вам понравилось больше всего? Напишите, пожалуйста, сообщением.
survey-skip = Пропустить
survey-thanks = Спасибо за ваш отзыв! Он помогает нам стать лучше.
survey-thanks-detractor = Спасибо, что рассказали. Менеджер обязательно разберётся.
survey-closed = Этот опрос закрыт. Спасибо!
survey-not-yours = Эта кнопка не для вас.
survey-button-invalid = Эта кнопка недействительна. Пожалуйста, используйте кнопки опроса.
survey-already-answered = Вы уже ответили на этот вопрос.
survey-reminder = Небольшое напоминание: нам важно ваше мнение о визите в { $location }. Опрос выше занимает два нажатия.
survey-reminder-no-location = Небольшое напоминание: нам важно ваше мнение о { $company }. Опрос выше занимает два нажатия.
survey-use-buttons = Пожалуйста, ответьте кнопками опроса выше.
survey-type-score = Пожалуйста, нажмите оценку в опросе выше или напишите число от { $low } до { $high }.
survey-no-open = Спасибо за сообщение! Если захотите рассказать о визите, мы спросим вас после следующего.

alert-title = ⚠️ Недовольный клиент
alert-nps = NPS: { $score }
alert-ces = CES: { $score }
alert-ces-pending = CES: ещё не ответил
alert-reason = Причина: { $reason }
alert-topics = Темы: { $topics }
alert-reason-pending = Причина: ещё не указана
alert-reason-skipped = Причина: пропущена
alert-customer = Клиент: { $name }
alert-contact = Контакт: { $contact }
alert-location = Точка: { $location }
alert-staff = Сотрудник: { $staff }
alert-touchpoint = Точка контакта: { $touchpoint }
alert-visit-time = Визит: { $time }
alert-unknown = —
