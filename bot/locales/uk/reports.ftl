## Звіти: /stats, щотижневе зведення, сигнал про падіння NPS, підписи графіків.

# Joins the last two score names of the title: "NPS, CES і CSAT".
reports-and = і
reports-title = 📊 { $scores }, { $start } – { $end } ({ $days ->
    [one] { $days } день
    [few] { $days } дні
   *[many] { $days } днів
})
reports-digest-title = 📬 Зведення за тиждень, { $start } – { $end }
reports-empty = За цей період опитування не надсилалися і відповідей немає.
reports-total = Загалом
reports-unset = (не вказано)

reports-line-nps = { $name }: NPS { $nps } ±{ $margin } (n={ $n })
reports-line-not-enough = { $name }: замало відповідей (n={ $n }, потрібно щонайменше { $min })
reports-line-empty = { $name }: відповідей немає
reports-delta = { $delta } до попереднього періоду
reports-delta-within-margin = { $delta } до попереднього періоду (в межах похибки)
reports-previous = Попередній період { $start } – { $end }: NPS { $nps } ±{ $margin } (n={ $n })

reports-mix = { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутери
   *[many] { $promoters } промоутерів
} · { $passives ->
    [one] { $passives } нейтрал
    [few] { $passives } нейтрали
   *[many] { $passives } нейтралів
} · { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критики
   *[many] { $detractors } критиків
}
reports-ces = CES { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } з 7 · { $easy }% оцінили як легке (5–7) · { $n ->
    [one] { $n } відповідь
    [few] { $n } відповіді
   *[many] { $n } відповідей
}
reports-ces-none = CES: відповідей немає
reports-csat = CSAT { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } з 5 · { $satisfied }% задоволені (4–5) · { $n ->
    [one] { $n } відповідь
    [few] { $n } відповіді
   *[many] { $n } відповідей
}
reports-csat-none = CSAT: відповідей немає
reports-surveys = Опитування: надіслано { $sent } · { $answered ->
    [one] отримано { $answered } відповідь
    [few] отримано { $answered } відповіді
   *[many] отримано { $answered } відповідей
} · відгук { $rate }%
reports-surveys-none = Опитування: не надсилалися · { $answered ->
    [one] отримано { $answered } відповідь
    [few] отримано { $answered } відповіді
   *[many] отримано { $answered } відповідей
}

reports-by-location = За точками:
reports-by-staff = За співробітниками:
reports-by-touchpoint = За точками контакту:
reports-more = …і ще { $count }
reports-weakest = ⚠️ Увага насамперед: { $name } (NPS { $nps } ±{ $margin })
reports-weakest-unknown = Поки в жодному сегменті немає достатньо відповідей (по { $min }), щоб назвати найслабший.

reports-drop-alert = 📉 NPS у «{ $location }» впав на { $drop ->
    [one] { $drop } пункт
    [few] { $drop } пункти
   *[many] { $drop } пунктів
}: { $after } ±{ $after_margin } за останні 7 днів (n={ $after_n }) проти { $before } ±{ $before_margin } за 28 днів до того (n={ $before_n }).

reports-error-period = Не розумію період «{ $text }». Пишіть 7d, 30d, 2026-10 або 2026-10-01..2026-10-31.
reports-error-date = «{ $text }» не схоже на дату. Дати пишіть як РРРР-ММ-ДД, місяці як РРРР-ММ.
reports-error-reversed = Період закінчується ({ $end }) раніше, ніж починається ({ $start }).
reports-error-length = Період має бути від 1 до { $max } днів, а не { $days ->
    [one] { $days } день
    [few] { $days } дні
   *[many] { $days } днів
}.
reports-error-future = Період починається в майбутньому ({ $start }).
reports-error-segment = Невідомий розріз «{ $text }». Використовуйте location, staff або touchpoint.
reports-error-arguments = Вкажіть не більше одного періоду і одного розрізу, наприклад: /stats 30d location
reports-error-scoped-segment = Розріз за { $segment } доступний головному офісу: тут використовуйте /stats без розрізу або за точками (location).

reports-chart-title = NPS, { $start } – { $end }
reports-chart-weekly = NPS за тижнями (смуга: похибка 95%)
reports-chart-band = похибка 95%
reports-chart-few = менше { $min } відповідей
reports-chart-by-location = NPS за точками
reports-chart-by-staff = NPS за співробітниками
reports-chart-by-touchpoint = NPS за точками контакту
reports-chart-weakest = найслабший
reports-chart-no-data = За цей період відповідей немає
