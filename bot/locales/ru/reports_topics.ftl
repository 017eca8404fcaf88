## О чём говорят причины: /topics, строка в /stats и главные потери в дайджесте.

topics-title = 🏷 О чём говорят причины, { $start } – { $end }
topics-scope = Точки: { $names }
topics-answers = { $n ->
    [one] { $n } ответ
    [few] { $n } ответа
   *[many] { $n } ответов
} · NPS { $nps }
topics-too-few = Слишком мало ответов, чтобы сказать, что отнимает NPS (n={ $n }, нужно не меньше { $min }): только упоминания.
topics-none = Ни один ответ за этот период не касается тем.
topics-line = { $rank }. { $label }: { $impact } · { $mentions ->
    [one] { $mentions } упоминание
    [few] { $mentions } упоминания
   *[many] { $mentions } упоминаний
} ({ $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критика
   *[many] { $detractors } критиков
}, { $promoters ->
    [one] { $promoters } промоутер
    [few] { $promoters } промоутера
   *[many] { $promoters } промоутеров
}) · { $share }% ответов
topics-impact = влияние на NPS { $points }
topics-impact-unknown = мало данных, чтобы сказать
topics-share-change = { $change } п. п. к прошлому периоду
topics-more = …и ещё { $count ->
    [one] { $count } тема
    [few] { $count } темы
   *[many] { $count } тем
} на графике
topics-chart-title = Темы по влиянию на NPS, { $start } – { $end }
topics-chart-axis = Пункты NPS, потерянные (−) или полученные (+) из-за темы
topics-chart-few = мало данных
topics-chart-no-data = За этот период темы не упоминались
topics-caption = Темы по влиянию на NPS, { $start } – { $end }
topics-error-location = Я не знаю точку «{ $text }».
topics-error-scope = Этот чат видит только свои точки; «{ $text }» не из них.

topics-detractors = Критики чаще всего пишут о: { $topics }
topics-detractor-item = { $label } ({ $count })

topics-losses = Главная потеря по точкам:
topics-loss-line = • { $name }: { $label }, влияние на NPS { $points }
topics-loss-too-few = • { $name }: слишком мало ответов, чтобы сказать
topics-loss-none = • { $name }: ни одна тема не отнимает NPS
