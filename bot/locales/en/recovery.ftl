## Closing the loop, measured: the block of /stats and the weekly digest.

recovery-title = 🔁 Closing the loop
recovery-empty = No detractors and no cases in this period.
recovery-opened = { $detractors ->
    [one] { $detractors } detractor
   *[other] { $detractors } detractors
} · { $opened ->
    [one] { $opened } case opened
   *[other] { $opened } cases opened
}
recovery-taken = Taken: { $n } of { $of } ({ $share }%)
recovery-contacted = Customer contacted: { $n } of { $of } ({ $share }%)
recovery-resolved = Resolved: { $n } of { $of } ({ $share }%)
recovery-percentiles = half within { $p50 }, 90% within { $p90 }
recovery-resolutions = fixed and told { $notified } · fixed silently { $silent } · closed without a fix { $closed }
recovery-followup = Follow-up “did we fix it?”: asked { $asked } · fixed { $fixed } · not fixed { $unfixed } · { $reopened ->
    [one] { $reopened } case reopened
   *[other] { $reopened } cases reopened
}
recovery-won-back = Won back: of { $back ->
    [one] { $back } detractor who came back
   *[other] { $back } detractors who came back
}, { $promoters } scored 9–10 and { $passives } scored 7–8 ({ $again } again 0–6)
recovery-won-back-none = Won back: no detractor has come back yet
recovery-too-few = — too few to say (n={ $n }, at least { $min } needed)
recovery-location-line = { $name }: { $opened ->
    [one] { $opened } case
   *[other] { $opened } cases
} · taken { $taken }% · resolved { $resolved }% · won back { $won } of { $back }

recovery-duration-minutes = { $n } min
recovery-duration-hours = { NUMBER($n, maximumFractionDigits: 1) } h
recovery-duration-days = { NUMBER($n, maximumFractionDigits: 1) } d
recovery-duration-over = more than { $days } d

reports-export-cases-caption = 🔁 Cases of { $start } – { $end }, one row each with its timings
