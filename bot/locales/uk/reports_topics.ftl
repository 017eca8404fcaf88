## Про що кажуть причини: /topics, рядок у /stats і найбільші втрати в дайджесті.

topics-title = 🏷 Про що кажуть причини, { $start } – { $end }
topics-scope = Точки: { $names }
topics-answers = { $n ->
    [one] { $n } відповідь
    [few] { $n } відповіді
   *[many] { $n } відповідей
} · NPS { $nps }
topics-too-few = Замало відповідей, щоб сказати, що забирає NPS (n={ $n }, потрібно щонайменше { $min }): лише згадки.
topics-none = Жодна відповідь за цей період не стосується тем.
topics-line = { $rank }. { $label }: { $impact } · { $mentions ->
    [one] { $mentions } згадка
    [few] { $mentions } згадки
   *[many] { $mentions } згадок
} ({ $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критики
   *[many] { $detractors } критиків
}, { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутери
   *[many] { $promoters } промоутерів
}) · { $share }% відповідей
topics-impact = вплив на NPS { $points }
topics-impact-unknown = замало даних, щоб сказати
topics-share-change = { $change } в. п. до попереднього періоду
topics-more = …і ще { $count ->
    [one] { $count } тема
    [few] { $count } теми
   *[many] { $count } тем
} на графіку
topics-chart-title = Теми за впливом на NPS, { $start } – { $end }
topics-chart-axis = Пункти NPS, втрачені (−) або здобуті (+) через тему
topics-chart-few = замало даних
topics-chart-no-data = За цей період теми не згадувалися
topics-caption = Теми за впливом на NPS, { $start } – { $end }
topics-error-location = Я не знаю точку «{ $text }».
topics-error-scope = Цей чат бачить лише свої точки; «{ $text }» не з них.

topics-detractors = Критики найчастіше пишуть про: { $topics }
topics-detractor-item = { $label } ({ $count })

topics-losses = Найбільша втрата за точками:
topics-loss-line = • { $name }: { $label }, вплив на NPS { $points }
topics-loss-too-few = • { $name }: замало відповідей, щоб сказати
topics-loss-none = • { $name }: жодна тема не забирає NPS
