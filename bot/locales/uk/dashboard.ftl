## Панель керівника (Mini App за адресою /app/) і команда /dashboard.

dashboard-title = Панель Otklik
dashboard-loading = Завантаження…
dashboard-open-from-telegram = Відкрийте панель із бота: надішліть йому /dashboard в особистому чаті.
dashboard-denied = Це посилання або сесія Telegram більше не діє. Надішліть боту /dashboard ще раз.
dashboard-forbidden = Немає доступу. Панель — для учасників чатів керівників і адміністраторів, кожному — свої точки.
dashboard-expired = Сесія закінчилася. Відкрийте панель із бота ще раз.
dashboard-error = Щось пішло не так. Спробуйте ще раз.
dashboard-bad-filter = Такий фільтр не підходить.

dashboard-tab-overview = Огляд
dashboard-tab-responses = Відповіді
dashboard-tab-cases = Звернення

dashboard-period = Період
dashboard-preset-7d = 7 днів
dashboard-preset-30d = 30 днів
dashboard-preset-90d = 90 днів
dashboard-preset-month = Цей місяць
dashboard-preset-custom = Свій період
dashboard-from = З
dashboard-to = По
dashboard-apply = Показати

dashboard-nps = NPS
dashboard-nps-margin = ±{ $margin } (n={ $n })
dashboard-not-enough = замало відповідей (n={ $n }, потрібно щонайменше { $min })
dashboard-no-answers = немає відповідей
dashboard-no-surveys = опитування не надсилались
dashboard-mix = { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутери
   *[other] { $promoters } промоутерів
} · { $passives ->
    [one] { $passives } нейтрал
    [few] { $passives } нейтрали
   *[other] { $passives } нейтралів
} · { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критики
   *[other] { $detractors } критиків
}
dashboard-ces = CES
dashboard-ces-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } з 7
dashboard-ces-short = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) }
dashboard-ces-easy = { $easy }% — легко (5–7) · { $n ->
    [one] { $n } відповідь
    [few] { $n } відповіді
   *[other] { $n } відповідей
}
dashboard-csat = CSAT
dashboard-csat-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } з 5
dashboard-csat-satisfied = { $satisfied }% — задоволені (4–5) · { $n ->
    [one] { $n } відповідь
    [few] { $n } відповіді
   *[other] { $n } відповідей
}
dashboard-response-rate = Частка відповідей
dashboard-rate-detail = відповіли { $answered } з { $sent }
dashboard-change = Зміна NPS
dashboard-delta-within-margin = у межах похибки
dashboard-delta-none = порівняння немає: замало відповідей в одному з періодів
dashboard-previous = до { $start } – { $end }
dashboard-weekly = NPS за тижнями
dashboard-weekly-hint = Смуга — похибка 95%; тижні, де менше { $min } відповідей, менш надійні.
dashboard-empty = За цей період опитування не надсилались і відповідей немає.
dashboard-locations = Точки
dashboard-col-location = Точка
dashboard-col-nps = NPS
dashboard-col-n = Відповіді
dashboard-col-ces = CES
dashboard-col-csat = CSAT
dashboard-col-rate = Частка відповідей
dashboard-col-delta = Зміна
dashboard-small-sample = замало відповідей
dashboard-col-detractors = Критики
dashboard-col-cases = Звернення
dashboard-col-taken = Взяті
dashboard-col-resolved = Вирішені
dashboard-col-reopened = Відкриті знову
dashboard-col-won-back = Повернули
dashboard-won-back = { $won } з { $back }

dashboard-filter-location = Точка
dashboard-filter-staff = Працівник
dashboard-filter-touchpoint = Точка контакту
dashboard-filter-band = Оцінка
dashboard-filter-topic = Тема
dashboard-filter-any = Усі
dashboard-filter-text = Пошук у причинах
dashboard-filter-apply = Фільтрувати
dashboard-band-promoter = Промоутери (9–10)
dashboard-band-passive = Нейтрали (7–8)
dashboard-band-detractor = Критики (0–6)
dashboard-csv = Завантажити CSV
dashboard-older = Раніші →
dashboard-newest = ← Найновіші
dashboard-no-responses = Немає відповідей із такими фільтрами.
dashboard-scan-stopped = Переглянуто відповіді до { $day }; раніші ще не переглянуто.
dashboard-scan-none = Серед переглянутих відповідей збігів немає.
dashboard-scan-older = Шукати в раніших →
dashboard-no-reason = (причину не вказано)
dashboard-response-case = Звернення №{ $id }: { $status }

dashboard-case-status-new = нове
dashboard-case-status-taken = у роботі
dashboard-case-status-resolved = вирішено
dashboard-case-status-closed = закрито
dashboard-case-stage-new = Взяти
dashboard-case-stage-taken = Вирішити
dashboard-cases-title = Відкриті звернення
dashboard-cases-count = { $count ->
    [one] { $count } відкрите звернення
    [few] { $count } відкриті звернення
   *[other] { $count } відкритих звернень
} · прострочено: { $overdue }
dashboard-cases-first = нижче перші { $shown } за терміном
dashboard-cases-none = Відкритих звернень немає.
dashboard-case-overdue = прострочено на { $age }
dashboard-case-due = залишилось { $age }
dashboard-case-owner = Відповідальний: { $owner }
dashboard-case-unowned = Ще ніхто не взяв
dashboard-case-unprompted = 📨 Відгук без опитування
dashboard-case-take = Взяти
dashboard-case-resolve = Вирішено
dashboard-case-note = Що зроблено
dashboard-case-notify = Повідомити клієнту, що виправили
dashboard-case-taken = Звернення №{ $id } тепер ваше.
dashboard-case-resolved = Звернення №{ $id } вирішено.

dashboard-command-text = 📈 Панель: показники, відповіді та звернення ваших точок.
dashboard-command-open = Відкрити панель
dashboard-command-browser = Відкрити в браузері (посилання одноразове, на 5 хвилин)
dashboard-menu-button = Панель
dashboard-command-no-url = Для панелі потрібен PUBLIC_URL (https-адреса, за якою доступний бот) у налаштуваннях.

## The Topics screen.

dashboard-tab-topics = Теми
dashboard-topics-answers = Відповіді
dashboard-topics-mentioned = Згадано тем
dashboard-topics-too-few = Замало відповідей, щоб сказати, що забирає NPS (n={ $n }, потрібно щонайменше { $min }): лише згадки.
dashboard-topics-impact = Теми за впливом на NPS
dashboard-topics-impact-hint = NPS мінус NPS без відповідей, де згадано тему: червоне — пункти, втрачені через неї, зелене — пункти, які вона дає.
dashboard-topics-few = замало даних
dashboard-topics-mentions = { $count ->
    [one] { $count } згадка
    [few] { $count } згадки
   *[many] { $count } згадок
} ({ $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критики
   *[many] { $detractors } критиків
}, { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутери
   *[many] { $promoters } промоутерів
})
dashboard-topics-share = { $share }% відповідей
dashboard-topics-share-change = частка { $change } в. п. до попереднього періоду
dashboard-topics-impact-change = вплив { $change } до попереднього періоду
dashboard-topics-all = Усі відповіді за темою ({ $count }) →
dashboard-topics-none = Жодна відповідь за цей період не стосується тем.
dashboard-topics-trend = Частка відповідей з цією темою по тижнях
dashboard-topics-silent = Не згадувалися: { $topics }
