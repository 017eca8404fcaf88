## Отчёты: /stats, еженедельная сводка, сигнал о падении NPS, подписи графиков.

# Joins the last two score names of the title: "NPS, CES и CSAT".
reports-and = и
reports-title = 📊 { $scores }, { $start } – { $end } ({ $days ->
    [one] { $days } день
    [few] { $days } дня
   *[many] { $days } дней
})
reports-digest-title = 📬 Сводка за неделю, { $start } – { $end }
reports-empty = За этот период опросы не отправлялись и ответов нет.
reports-total = Всего
reports-unset = (не указано)

reports-line-nps = { $name }: NPS { $nps } ±{ $margin } (n={ $n })
reports-line-not-enough = { $name }: мало ответов (n={ $n }, нужно не меньше { $min })
reports-line-empty = { $name }: ответов нет
reports-delta = { $delta } к прошлому периоду
reports-delta-within-margin = { $delta } к прошлому периоду (в пределах погрешности)
reports-previous = Прошлый период { $start } – { $end }: NPS { $nps } ±{ $margin } (n={ $n })

reports-mix = { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутера
   *[many] { $promoters } промоутеров
} · { $passives ->
    [one] { $passives } нейтрал
    [few] { $passives } нейтрала
   *[many] { $passives } нейтралов
} · { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критика
   *[many] { $detractors } критиков
}
reports-ces = CES { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } из 7 · { $easy }% оценили как лёгкое (5–7) · { $n ->
    [one] { $n } ответ
    [few] { $n } ответа
   *[many] { $n } ответов
}
reports-ces-none = CES: ответов нет
reports-csat = CSAT { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } из 5 · { $satisfied }% довольны (4–5) · { $n ->
    [one] { $n } ответ
    [few] { $n } ответа
   *[many] { $n } ответов
}
reports-csat-none = CSAT: ответов нет
reports-surveys = Опросы: отправлено { $sent } · { $answered ->
    [one] получен { $answered } ответ
    [few] получено { $answered } ответа
   *[many] получено { $answered } ответов
} · отклик { $rate }%
reports-surveys-none = Опросы: не отправлялись · { $answered ->
    [one] получен { $answered } ответ
    [few] получено { $answered } ответа
   *[many] получено { $answered } ответов
}

reports-by-location = По точкам:
reports-by-staff = По сотрудникам:
reports-by-touchpoint = По точкам контакта:
reports-more = …и ещё { $count }
reports-weakest = ⚠️ Внимание в первую очередь: { $name } (NPS { $nps } ±{ $margin })
reports-weakest-unknown = Пока ни в одном сегменте нет достаточно ответов (по { $min }), чтобы назвать самый слабый.

reports-drop-alert = 📉 NPS в «{ $location }» упал на { $drop ->
    [one] { $drop } пункт
    [few] { $drop } пункта
   *[many] { $drop } пунктов
}: { $after } ±{ $after_margin } за последние 7 дней (n={ $after_n }) против { $before } ±{ $before_margin } за 28 дней до этого (n={ $before_n }).

reports-error-period = Не понимаю период «{ $text }». Пишите 7d, 30d, 2026-10 или 2026-10-01..2026-10-31.
reports-error-date = «{ $text }» не похоже на дату. Даты пишите как ГГГГ-ММ-ДД, месяцы как ГГГГ-ММ.
reports-error-reversed = Период заканчивается ({ $end }) раньше, чем начинается ({ $start }).
reports-error-length = Период должен быть от 1 до { $max } дней, а не { $days ->
    [one] { $days } день
    [few] { $days } дня
   *[many] { $days } дней
}.
reports-error-future = Период начинается в будущем ({ $start }).
reports-error-segment = Неизвестный разрез «{ $text }». Используйте location, staff или touchpoint.
reports-error-arguments = Укажите не больше одного периода и одного разреза, например: /stats 30d location
reports-error-scoped-segment = Разрез по { $segment } доступен головному офису: здесь используйте /stats без разреза или по точкам (location).

reports-chart-title = NPS, { $start } – { $end }
reports-chart-weekly = NPS по неделям (полоса: погрешность 95%)
reports-chart-band = погрешность 95%
reports-chart-few = меньше { $min } ответов
reports-chart-by-location = NPS по точкам
reports-chart-by-staff = NPS по сотрудникам
reports-chart-by-touchpoint = NPS по точкам контакта
reports-chart-weakest = слабее всех
reports-chart-no-data = За этот период ответов нет
