## What the reasons say: /topics, the /stats line and the digest's biggest losses.

topics-title = 🏷 What the reasons say, { $start } – { $end }
topics-scope = Locations: { $names }
topics-answers = { $n ->
    [one] { $n } answer
   *[other] { $n } answers
} · NPS { $nps }
topics-too-few = Too few answers to say what costs NPS (n={ $n }, at least { $min } needed): the mentions only.
topics-none = No answer in this period mentions a topic.
topics-line = { $rank }. { $label }: { $impact } · { $mentions ->
    [one] { $mentions } mention
   *[other] { $mentions } mentions
} ({ $detractors ->
    [one] { $detractors } detractor
   *[other] { $detractors } detractors
}, { $promoters ->
    [one] { $promoters } promoter
   *[other] { $promoters } promoters
}) · { $share }% of answers
topics-impact = NPS impact { $points }
topics-impact-unknown = too few to say
topics-share-change = { $change } pts against the previous period
topics-more = …and { $count ->
    [one] { $count } more topic
   *[other] { $count } more topics
} on the chart
topics-chart-title = Topics by NPS impact, { $start } – { $end }
topics-chart-axis = NPS points lost (−) or gained (+) to each topic
topics-chart-few = too few to say
topics-chart-no-data = No topics mentioned in this period
topics-caption = Topics by NPS impact, { $start } – { $end }
topics-error-location = I do not know the location “{ $text }”.
topics-error-scope = This chat sees only its own locations; “{ $text }” is not one of them.

topics-detractors = Detractors mention most: { $topics }
topics-detractor-item = { $label } ({ $count })

topics-losses = Biggest loss by location:
topics-loss-line = • { $name }: { $label }, NPS impact { $points }
topics-loss-too-few = • { $name }: too few answers to say
topics-loss-none = • { $name }: no topic costs NPS
