# Cases: closing the loop with a detractor. Manager-facing texts are in the
# manager's language; case-template-*, case-customer-* and case-followup-*
# are addressed to the customer, in the customer's language.

## Status line of the alert card

case-status-new = 🆕 New: nobody has taken it yet
case-status-taken = 👤 Taken by { $owner } at { $time }
case-status-resolved = ✅ Resolved by { $owner } at { $time }
case-status-closed = ⛔ Closed without a fix by { $owner }: { $reason }

## The alert card in the manager chat

case-card-title = 🚨 Case #{ NUMBER($id, useGrouping: 0) } · NPS { $nps }
case-card-ces = Effort (CES): { $ces } of 7
case-card-reason = Why: { $reason }
case-card-no-reason = Why: (no answer)
case-card-customer = Customer: { $name } ({ $contact })
case-card-location = Location: { $location }
case-card-staff = Staff: { $staff }
case-card-visit = Visit: { $time }
case-card-resolution = Resolution: { $note }
case-card-followup = { $answer ->
    [yes] Follow-up: the customer says it is fixed 👍
   *[other] Follow-up: the customer says it is not fixed 👎
}
case-card-reopened = 🔁 Reopened { $count ->
    [one] once
   *[other] { $count } times
}: the customer says it is not fixed

## Buttons

case-button-take = 🙋 Take
case-button-write = ✉️ Write to customer
case-button-templates = 📝 Templates
case-button-resolve = ✅ Resolve
case-button-close = ⛔ Close without fix
case-button-resolve-notify = ✅ Resolve and tell the customer
case-button-resolve-silent = Resolve without telling
case-button-cancel = Cancel
case-button-send = ✅ Send
case-button-without-date = Without a date
case-button-without-bonus = Without a bonus

case-template-button-thank = 1. Thank
case-template-button-apologise = 2. Apologise
case-template-button-apologise-bonus = 2. Apologise + bonus
case-template-button-promise-fix = 3. Promise a fix by a date
case-template-button-cannot-fix = 3. Honestly: can't be fixed
case-template-button-improved = 5. Improved thanks to you

## Templates for the customer (editable before sending)

case-template-thank = Thank you for telling us what went wrong. Feedback like yours is how { $company } gets better, and we take it seriously.
case-template-apologise = We are sorry that your visit did not go as it should have. That is not the service we want you to get from { $company }.
case-template-apologise-bonus = We are sorry that your visit did not go as it should have. As an apology, { $company } would like to offer you { $bonus }.
case-template-promise-fix = We are already working on it and will fix it by { $date }. We will let you know when it is done.
case-template-cannot-fix = To be honest with you: this is something we cannot change right now. We will take it into account, and thank you for understanding.
case-template-improved = Thanks to you, the service at { $company } has improved: we fixed the problem you told us about. Thank you for helping us get better!
case-template-promise-fix-without = We are already working on it and will let you know as soon as it is fixed.
case-template-apologise-bonus-without = We are sorry that your visit did not go as it should have. That is not the service we want you to get from { $company }.
case-template-ask-date = Case #{ NUMBER($id, useGrouping: 0) }: by when will it be fixed? Write the date as the customer should read it (e.g. "Friday, 12 December"), or send the template without a date.
case-template-ask-bonus = Case #{ NUMBER($id, useGrouping: 0) }: what do you offer the customer? Write it as they should read it (e.g. "a free coffee on your next visit"), or send the template without a bonus.
case-template-value-invalid = Please write it in 1 to 200 characters.
case-template-preview = Case #{ NUMBER($id, useGrouping: 0) }: the customer will get this message. Tap Send, or write your own text instead.

    { $text }

## What the customer sees when a manager writes

case-customer-message = 💬 { $company }: { $text }
case-customer-ack = ✅ Thank you! Your message has been passed to the team.

## Follow-up with the customer, some days after the resolution

case-followup-question = Some time ago you told { $company } about a problem, and we worked on it. Did we fix it?
case-followup-yes = 👍 Yes, fixed
case-followup-no = 👎 No
case-followup-thanks-yes = Thank you! We are glad it is fixed.
case-followup-thanks-no = Thank you for telling us. We will look into it again.

## Answers to button presses and commands

case-refused-not-found = This case does not exist.
case-refused-not-allowed = Only the manager who took this case (or an admin) can do that.
case-refused-not-a-manager = Only the managers' team can act on cases.
case-refused-other-branch = This case belongs to another branch: its own managers' chat acts on it.
case-refused-wrong-chat = Case buttons work only in the managers' chat.
case-refused-already-taken-by = { $owner } has already taken this case.
case-refused-not-taken = Take the case first.
case-refused-already-closed = This case is already closed.
case-refused-invalid-transition = This cannot be done in the case's current state.
case-refused-text-required = Please write a few words: the text cannot be empty.
case-refused-followup-not-sent = There is no question to answer here.
case-refused-already-answered = You have already answered. Thank you!
case-refused-not-your-prompt = Only the manager who started this can cancel it.
case-refused-nothing-to-send = Nothing is waiting to be sent here: pick a template again.

case-done-taken = The case is yours.
case-done-already-yours = You already own this case.
case-done-resolved = The case is resolved.
case-done-closed = The case is closed.
case-done-message-sent = Sent to the customer.
case-done-note = Note saved.

## Prompts while a manager works on a case

case-prompt-message = Write your message to the customer of case #{ NUMBER($id, useGrouping: 0) }. It is sent from the bot; the customer does not see your account.
case-prompt-templates = Pick a template for case #{ NUMBER($id, useGrouping: 0) }; you will see the exact text before it is sent.
case-prompt-resolve-notify = Case #{ NUMBER($id, useGrouping: 0) }: should the customer be told that it is fixed?
case-prompt-resolve-note = Case #{ NUMBER($id, useGrouping: 0) }: in a few words, what was done?
case-prompt-close-reason = Case #{ NUMBER($id, useGrouping: 0) }: why is it closed without a fix?
case-prompt-cancelled = Cancelled.
case-prompt-chosen = ➡️ { $choice }

## The case thread in the manager chat

case-thread-in = 💬 Case #{ NUMBER($id, useGrouping: 0) }, { $customer }: { $text }
case-thread-out = ↩️ Case #{ NUMBER($id, useGrouping: 0) }, { $owner } to the customer: { $text }

## Escalation when an SLA passes

case-escalation-take = ⏰ { $mention } Case #{ NUMBER($id, useGrouping: 0) } has been waiting for { $age } and nobody has taken it.
case-escalation-resolve = ⏰ { $mention } Case #{ NUMBER($id, useGrouping: 0) }, taken by { $owner }, is still not resolved after { $age }.
case-reopened-owner = 🔁 { $mention } Case #{ NUMBER($id, useGrouping: 0) } is open again: the customer says the problem is not fixed. It is yours again; resolve it by { $due }.
case-reopened-nobody = 🔁 Case #{ NUMBER($id, useGrouping: 0) } is open again: the customer says the problem is not fixed. Nobody owns it now: take it by { $due }.

## Ages

case-age-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
case-age-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
case-age-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}

## /cases

case-list-title = { $count ->
    [one] { $count } open case, oldest first:
   *[other] { $count } open cases, oldest first:
}
case-list-empty = No open cases. 🎉
case-list-status-new = new
case-list-status-taken = taken by { $owner }
case-list-line = #{ NUMBER($id, useGrouping: 0) } · { $status } · { $age } ago · { $customer } · NPS { $nps }

## /case <id>

case-usage = Usage: /case 12 (the case number)
case-history-title = Case #{ NUMBER($id, useGrouping: 0) }
case-actor-system = bot
case-event-opened = { $time } opened
case-event-taken = { $time } taken by { $actor }
case-event-message-out = { $time } { $actor } → customer: { $text }
case-event-message-in = { $time } customer { $actor }: { $text }
case-event-escalated = { $time } { $text ->
    [take] escalated: not taken in time
   *[other] escalated: not resolved in time
}
case-event-resolved = { $time } resolved by { $actor }: { $text }
case-event-closed = { $time } closed without a fix by { $actor }: { $text }
case-event-followup-sent = { $time } follow-up sent: "Did we fix it?"
case-event-followup-answer = { $time } { $text ->
    [yes] the customer says it is fixed
   *[other] the customer says it is not fixed
}
case-event-reopened = { $time } reopened: the customer says it is not fixed
case-event-note = { $time } note by { $actor }: { $text }

## Many alerts at once: the waiting ones folded into one message

case-fold-title = { $count ->
    [one] 🚨 { $count } more unhappy customer, folded into one message:
   *[other] 🚨 { $count } more unhappy customers at once, folded into one message:
}
case-fold-hint = 🙋 #N takes case N; once taken, 📋 #N opens its card with every button.
case-fold-score-nps = NPS { $nps }
case-fold-score-ces = CES { $ces } of 7
case-fold-reason = “{ $reason }”
case-fold-status-new = 🆕 new
case-fold-status-taken = 👤 { $owner }
case-fold-status-resolved = ✅ { $owner }
case-fold-status-closed = ⛔ { $owner }
case-fold-button-take = 🙋 #{ NUMBER($id, useGrouping: 0) }
case-fold-button-open = 📋 #{ NUMBER($id, useGrouping: 0) }

## Unprompted feedback: a customer wrote with no survey asking and no case open.
unprompted-title = 📨 Unprompted feedback
unprompted-no-score = The customer wrote on their own: no survey, no score.
unprompted-message = Message: { $text }
unprompted-location = Location: { $location } (their latest visit)
unprompted-no-location = Location: no visit known (head office)
unprompted-written = Received: { $time }
unprompted-thanks = ✅ Thank you for writing to us! Your message has been passed to the team, and a manager will reply here.
