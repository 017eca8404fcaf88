## Панель руководителя (Mini App по адресу /app/) и команда /dashboard.

dashboard-title = Панель Otklik
dashboard-loading = Загрузка…
dashboard-open-from-telegram = Откройте панель из бота: отправьте ему /dashboard в личном чате.
dashboard-denied = Эта ссылка или сессия Telegram больше не действует. Отправьте боту /dashboard ещё раз.
dashboard-forbidden = Нет доступа. Панель — для участников чатов руководителей и администраторов, каждому — свои точки.
dashboard-expired = Сессия закончилась. Откройте панель из бота ещё раз.
dashboard-error = Что-то пошло не так. Попробуйте ещё раз.
dashboard-bad-filter = Такой фильтр не подходит.

dashboard-tab-overview = Обзор
dashboard-tab-responses = Ответы
dashboard-tab-cases = Обращения

dashboard-period = Период
dashboard-preset-7d = 7 дней
dashboard-preset-30d = 30 дней
dashboard-preset-90d = 90 дней
dashboard-preset-month = Этот месяц
dashboard-preset-custom = Свой период
dashboard-from = С
dashboard-to = По
dashboard-apply = Показать

dashboard-nps = NPS
dashboard-nps-margin = ±{ $margin } (n={ $n })
dashboard-not-enough = мало ответов (n={ $n }, нужно не меньше { $min })
dashboard-no-answers = нет ответов
dashboard-no-surveys = опросы не отправлялись
dashboard-mix = { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутера
   *[other] { $promoters } промоутеров
} · { $passives ->
    [one] { $passives } нейтрал
    [few] { $passives } нейтрала
   *[other] { $passives } нейтралов
} · { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критика
   *[other] { $detractors } критиков
}
dashboard-ces = CES
dashboard-ces-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } из 7
dashboard-ces-short = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) }
dashboard-ces-easy = { $easy }% — легко (5–7) · { $n ->
    [one] { $n } ответ
    [few] { $n } ответа
   *[other] { $n } ответов
}
dashboard-csat = CSAT
dashboard-csat-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } из 5
dashboard-csat-satisfied = { $satisfied }% — довольны (4–5) · { $n ->
    [one] { $n } ответ
    [few] { $n } ответа
   *[other] { $n } ответов
}
dashboard-response-rate = Доля ответов
dashboard-rate-detail = ответили { $answered } из { $sent }
dashboard-change = Изменение NPS
dashboard-delta-within-margin = в пределах погрешности
dashboard-delta-none = сравнения нет: мало ответов в одном из периодов
dashboard-previous = к { $start } – { $end }
dashboard-weekly = NPS по неделям
dashboard-weekly-hint = Полоса — погрешность 95%; недели, где меньше { $min } ответов, менее надёжны.
dashboard-empty = За этот период опросы не отправлялись и ответов нет.
dashboard-locations = Точки
dashboard-col-location = Точка
dashboard-col-nps = NPS
dashboard-col-n = Ответы
dashboard-col-ces = CES
dashboard-col-csat = CSAT
dashboard-col-rate = Доля ответов
dashboard-col-delta = Изменение
dashboard-small-sample = мало ответов
dashboard-col-detractors = Критики
dashboard-col-cases = Обращения
dashboard-col-taken = Взяты
dashboard-col-resolved = Решены
dashboard-col-reopened = Открыты снова
dashboard-col-won-back = Вернули
dashboard-won-back = { $won } из { $back }

dashboard-filter-location = Точка
dashboard-filter-staff = Сотрудник
dashboard-filter-touchpoint = Точка контакта
dashboard-filter-band = Оценка
dashboard-filter-topic = Тема
dashboard-filter-any = Все
dashboard-filter-text = Поиск по причинам
dashboard-filter-apply = Фильтровать
dashboard-band-promoter = Промоутеры (9–10)
dashboard-band-passive = Нейтралы (7–8)
dashboard-band-detractor = Критики (0–6)
dashboard-csv = Скачать CSV
dashboard-older = Более ранние →
dashboard-newest = ← Самые новые
dashboard-no-responses = Нет ответов с такими фильтрами.
dashboard-scan-stopped = Просмотрены ответы до { $day }; более ранние ещё не просмотрены.
dashboard-scan-none = Среди просмотренных ответов совпадений нет.
dashboard-scan-older = Искать в более ранних →
dashboard-no-reason = (причина не указана)
dashboard-response-case = Обращение №{ $id }: { $status }

dashboard-case-status-new = новое
dashboard-case-status-taken = в работе
dashboard-case-status-resolved = решено
dashboard-case-status-closed = закрыто
dashboard-case-stage-new = Взять
dashboard-case-stage-taken = Решить
dashboard-cases-title = Открытые обращения
dashboard-cases-count = { $count ->
    [one] { $count } открытое обращение
    [few] { $count } открытых обращения
   *[other] { $count } открытых обращений
} · просрочено: { $overdue }
dashboard-cases-first = ниже первые { $shown } по сроку
dashboard-cases-none = Открытых обращений нет.
dashboard-case-overdue = просрочено на { $age }
dashboard-case-due = осталось { $age }
dashboard-case-owner = Ответственный: { $owner }
dashboard-case-unowned = Ещё никто не взял
dashboard-case-unprompted = 📨 Отзыв без опроса
dashboard-case-take = Взять
dashboard-case-resolve = Решено
dashboard-case-note = Что сделано
dashboard-case-notify = Сообщить клиенту, что исправили
dashboard-case-taken = Обращение №{ $id } теперь ваше.
dashboard-case-resolved = Обращение №{ $id } решено.

dashboard-command-text = 📈 Панель: показатели, ответы и обращения по вашим точкам.
dashboard-command-open = Открыть панель
dashboard-command-browser = Открыть в браузере (ссылка одноразовая, на 5 минут)
dashboard-menu-button = Панель
dashboard-command-no-url = Для панели нужен PUBLIC_URL (https-адрес, по которому доступен бот) в настройках.

## The Topics screen.

dashboard-tab-topics = Темы
dashboard-topics-answers = Ответы
dashboard-topics-mentioned = Упомянуто тем
dashboard-topics-too-few = Слишком мало ответов, чтобы сказать, что отнимает NPS (n={ $n }, нужно не меньше { $min }): только упоминания.
dashboard-topics-impact = Темы по влиянию на NPS
dashboard-topics-impact-hint = NPS минус NPS без ответов, где упомянута тема: красное — пункты, потерянные из-за неё, зелёное — пункты, которые она приносит.
dashboard-topics-few = мало данных
dashboard-topics-mentions = { $count ->
    [one] { $count } упоминание
    [few] { $count } упоминания
   *[many] { $count } упоминаний
} ({ $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критика
   *[many] { $detractors } критиков
}, { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутера
   *[many] { $promoters } промоутеров
})
dashboard-topics-share = { $share }% ответов
dashboard-topics-share-change = доля { $change } п. п. к прошлому периоду
dashboard-topics-impact-change = влияние { $change } к прошлому периоду
dashboard-topics-all = Все ответы по теме ({ $count }) →
dashboard-topics-none = Ни один ответ за этот период не касается тем.
dashboard-topics-trend = Доля ответов с этой темой по неделям
dashboard-topics-silent = Не упоминались: { $topics }
