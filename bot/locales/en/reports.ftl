## Reports: /stats, the weekly digest, the NPS drop alert, chart labels.

# Joins the last two score names of the title: "NPS, CES and CSAT".
reports-and = and
reports-title = 📊 { $scores }, { $start } – { $end } ({ $days ->
    [one] { $days } day
   *[other] { $days } days
})
reports-digest-title = 📬 Weekly digest, { $start } – { $end }
reports-empty = No surveys were sent or answered in this period.
reports-total = Overall
reports-unset = (not specified)

reports-line-nps = { $name }: NPS { $nps } ±{ $margin } (n={ $n })
reports-line-not-enough = { $name }: not enough answers (n={ $n }, at least { $min } needed)
reports-line-empty = { $name }: no answers
reports-delta = { $delta } vs the previous period
reports-delta-within-margin = { $delta } vs the previous period (within the margin of error)
reports-previous = Previous period { $start } – { $end }: NPS { $nps } ±{ $margin } (n={ $n })

reports-mix = { $promoters ->
    [one] { $promoters } promoter
   *[other] { $promoters } promoters
} · { $passives ->
    [one] { $passives } passive
   *[other] { $passives } passives
} · { $detractors ->
    [one] { $detractors } detractor
   *[other] { $detractors } detractors
}
reports-ces = CES { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } of 7 · { $easy }% found it easy (5–7) · { $n ->
    [one] { $n } answer
   *[other] { $n } answers
}
reports-ces-none = CES: no answers
reports-csat = CSAT { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } of 5 · { $satisfied }% satisfied (4–5) · { $n ->
    [one] { $n } answer
   *[other] { $n } answers
}
reports-csat-none = CSAT: no answers
reports-surveys = Surveys: { $sent } sent · { $answered } answered · response rate { $rate }%
reports-surveys-none = Surveys: none sent · { $answered } answered

reports-by-location = By location:
reports-by-staff = By staff member:
reports-by-touchpoint = By touchpoint:
reports-more = …and { $count } more
reports-weakest = ⚠️ Needs attention first: { $name } (NPS { $nps } ±{ $margin })
reports-weakest-unknown = No segment has enough answers yet ({ $min } each) to say which one is weakest.

reports-drop-alert = 📉 NPS at { $location } fell by { $drop ->
    [one] { $drop } point
   *[other] { $drop } points
}: { $after } ±{ $after_margin } over the last 7 days (n={ $after_n }) against { $before } ±{ $before_margin } over the 28 days before (n={ $before_n }).

reports-error-period = I do not understand the period “{ $text }”. Use 7d, 30d, 2026-10 or 2026-10-01..2026-10-31.
reports-error-date = “{ $text }” is not a valid date. Write dates as YYYY-MM-DD and months as YYYY-MM.
reports-error-reversed = The period ends ({ $end }) before it starts ({ $start }).
reports-error-length = A period must be from 1 to { $max } days long, not { $days ->
    [one] { $days } day
   *[other] { $days } days
}.
reports-error-future = The period starts in the future ({ $start }).
reports-error-segment = Unknown segment “{ $text }”. Use location, staff or touchpoint.
reports-error-arguments = Give at most one period and one segment, for example: /stats 30d location
reports-error-scoped-segment = Figures by { $segment } are the head office's: here, use /stats with no segment or by location.

reports-chart-title = NPS, { $start } – { $end }
reports-chart-weekly = NPS by week (band: 95% margin of error)
reports-chart-band = 95% margin
reports-chart-few = fewer than { $min } answers
reports-chart-by-location = NPS by location
reports-chart-by-staff = NPS by staff member
reports-chart-by-touchpoint = NPS by touchpoint
reports-chart-weakest = weakest
reports-chart-no-data = No answers in this period
