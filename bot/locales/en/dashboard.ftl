## The managers' dashboard (Mini App at /app/) and the /dashboard command.

dashboard-title = Otklik dashboard
dashboard-loading = Loading…
dashboard-open-from-telegram = Open the dashboard from the bot: send /dashboard to it in a private chat.
dashboard-denied = This link or Telegram session is no longer valid. Send /dashboard to the bot again.
dashboard-forbidden = No access. The dashboard is for the members of the managers' chats and for admins, each with their own locations.
dashboard-expired = Your session has ended. Open the dashboard from the bot again.
dashboard-error = Something went wrong. Try again.
dashboard-bad-filter = That filter cannot be used.

dashboard-tab-overview = Overview
dashboard-tab-responses = Responses
dashboard-tab-cases = Cases

dashboard-period = Period
dashboard-preset-7d = Last 7 days
dashboard-preset-30d = Last 30 days
dashboard-preset-90d = Last 90 days
dashboard-preset-month = This month
dashboard-preset-custom = Custom range
dashboard-from = From
dashboard-to = To
dashboard-apply = Show

dashboard-nps = NPS
dashboard-nps-margin = ±{ $margin } (n={ $n })
dashboard-not-enough = not enough answers (n={ $n }, at least { $min } needed)
dashboard-no-answers = no answers
dashboard-no-surveys = no surveys sent
dashboard-mix = { $promoters ->
    [one] { $promoters } promoter
   *[other] { $promoters } promoters
} · { $passives ->
    [one] { $passives } passive
   *[other] { $passives } passives
} · { $detractors ->
    [one] { $detractors } detractor
   *[other] { $detractors } detractors
}
dashboard-ces = CES
dashboard-ces-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } of 7
dashboard-ces-short = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) }
dashboard-ces-easy = { $easy }% found it easy (5–7) · { $n ->
    [one] { $n } answer
   *[other] { $n } answers
}
dashboard-csat = CSAT
dashboard-csat-value = { NUMBER($mean, minimumFractionDigits: 1, maximumFractionDigits: 1) } of 5
dashboard-csat-satisfied = { $satisfied }% satisfied (4–5) · { $n ->
    [one] { $n } answer
   *[other] { $n } answers
}
dashboard-response-rate = Response rate
dashboard-rate-detail = { $answered } answered of { $sent } sent
dashboard-change = Change in NPS
dashboard-delta-within-margin = within the margin of error
dashboard-delta-none = no comparison: too few answers in one of the periods
dashboard-previous = vs { $start } – { $end }
dashboard-weekly = NPS by week
dashboard-weekly-hint = The band is the 95% margin of error; weeks with fewer than { $min } answers are less reliable.
dashboard-empty = No surveys were sent or answered in this period.
dashboard-locations = Locations
dashboard-col-location = Location
dashboard-col-nps = NPS
dashboard-col-n = Answers
dashboard-col-ces = CES
dashboard-col-csat = CSAT
dashboard-col-rate = Response rate
dashboard-col-delta = Change
dashboard-small-sample = small sample
dashboard-col-detractors = Detractors
dashboard-col-cases = Cases
dashboard-col-taken = Taken
dashboard-col-resolved = Resolved
dashboard-col-reopened = Reopened
dashboard-col-won-back = Won back
dashboard-won-back = { $won } of { $back }

dashboard-filter-location = Location
dashboard-filter-staff = Staff member
dashboard-filter-touchpoint = Touchpoint
dashboard-filter-band = Score
dashboard-filter-topic = Topic
dashboard-filter-any = Any
dashboard-filter-text = Search the reasons
dashboard-filter-apply = Filter
dashboard-band-promoter = Promoters (9–10)
dashboard-band-passive = Passives (7–8)
dashboard-band-detractor = Detractors (0–6)
dashboard-csv = Download as CSV
dashboard-older = Older answers →
dashboard-newest = ← Newest
dashboard-no-responses = No answers match these filters.
dashboard-scan-stopped = Searched the answers back to { $day }; older ones are not searched yet.
dashboard-scan-none = No matches among the answers searched so far.
dashboard-scan-older = Search older answers →
dashboard-no-reason = (no reason given)
dashboard-response-case = Case #{ $id }: { $status }

dashboard-case-status-new = new
dashboard-case-status-taken = taken
dashboard-case-status-resolved = resolved
dashboard-case-status-closed = closed
dashboard-case-stage-new = To take
dashboard-case-stage-taken = To resolve
dashboard-cases-title = Open cases
dashboard-cases-count = { $count ->
    [one] { $count } open case
   *[other] { $count } open cases
} · { $overdue } overdue
dashboard-cases-first = the first { $shown } by deadline below
dashboard-cases-none = No open cases.
dashboard-case-overdue = overdue by { $age }
dashboard-case-due = due in { $age }
dashboard-case-owner = Owner: { $owner }
dashboard-case-unowned = Nobody has taken it yet
dashboard-case-unprompted = 📨 Unprompted feedback
dashboard-case-take = Take
dashboard-case-resolve = Resolve
dashboard-case-note = What was done
dashboard-case-notify = Tell the customer it is fixed
dashboard-case-taken = Case #{ $id } is yours.
dashboard-case-resolved = Case #{ $id } is resolved.

dashboard-command-text = 📈 The dashboard: your locations' figures, answers and cases.
dashboard-command-open = Open the dashboard
dashboard-command-browser = Open in a browser (link works once, for 5 minutes)
dashboard-menu-button = Dashboard
dashboard-command-no-url = The dashboard needs PUBLIC_URL (the https address the bot is reachable at) in the settings.

## The Topics screen.

dashboard-tab-topics = Topics
dashboard-topics-answers = Answers
dashboard-topics-mentioned = Topics mentioned
dashboard-topics-too-few = Too few answers to say what costs NPS (n={ $n }, at least { $min } needed): the mentions only.
dashboard-topics-impact = Topics by NPS impact
dashboard-topics-impact-hint = The NPS minus the NPS without the answers mentioning the topic: red is points lost to it, green points it brings.
dashboard-topics-few = too few to say
dashboard-topics-mentions = { $count ->
    [one] { $count } mention
   *[other] { $count } mentions
} ({ $detractors ->
    [one] { $detractors } detractor
   *[other] { $detractors } detractors
}, { $promoters ->
    [one] { $promoters } promoter
   *[other] { $promoters } promoters
})
dashboard-topics-share = { $share }% of answers
dashboard-topics-share-change = share { $change } pts against the previous period
dashboard-topics-impact-change = impact { $change } against the previous period
dashboard-topics-all = All answers about it ({ $count }) →
dashboard-topics-none = No answer in this period mentions a topic.
dashboard-topics-trend = Share of answers mentioning it, week by week
dashboard-topics-silent = Not mentioned: { $topics }
