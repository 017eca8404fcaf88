## Anniversary thank-yous and the admin commands. Plain text (no HTML markup).

## The thank-you a customer receives. $name, $years (a number), $company.
anniv-years = { $years ->
    [one] { $years } year
   *[other] { $years } years
}
anniv-message = { $name }, thank you for being with us for { anniv-years }! We truly value your trust. — { $company }
anniv-message-anonymous = Thank you for being with us for { anniv-years }! We truly value your trust. — { $company }

## What an admin sees before pressing Send. $count is a number of customers.
anniv-customers = { $count ->
    [one] { $count } customer
   *[other] { $count } customers
}
anniv-preview-title = 🎉 Anniversaries on { $date }: { anniv-customers }.
anniv-preview-group = • { anniv-years }: { anniv-customers }
anniv-preview-skipped = Skipped: opted out { $opted_out }, unreachable { $unreachable }. Already thanked: { $already }.
anniv-preview-language = Preview ({ $lang_name }):
anniv-preview-none = No anniversaries on { $date }.
anniv-preview-all-done = Everyone with an anniversary on { $date } has already been thanked ({ $already }).
anniv-button-send = ✅ Send ({ $count })
anniv-button-cancel = ✖️ Cancel
anniv-cancelled = Cancelled: nothing was sent.
anniv-date-invalid = Expected a date as YYYY-MM-DD, for example: /anniversaries 2026-12-01
anniv-language-en = English
anniv-language-ru = Russian
anniv-language-uk = Ukrainian

## While sending, and when done.
anniv-progress = Sending thank-yous for { $date }… sent { $sent } / failed { $failed } / left { $left }
anniv-summary =
    Thank-yous for { $date } are done.
    Sent: { $sent }. Failed: { $failed }.
    Skipped: opted out { $opted_out }, unreachable { $unreachable }. Already thanked before: { $already }.
anniv-auto-title = Automatic anniversary send ({ $time }):
anniv-nothing-to-send = Nothing to send for { $date }: no new anniversaries.

## The customer card (/customer). Missing values are passed as "—".
admin-customer-usage = Usage: /customer phone, Telegram id, external id, @username or #id
admin-customer-not-found = No customer matches “{ $query }”.
admin-customer-ambiguous = { $count } customers match “{ $query }”. Add a prefix: tg:, ext:, phone: or # (customer number).
admin-customer-title = 👤 Customer #{ $id }
admin-customer-name = Name: { $name }
admin-customer-contacts = Telegram: { $telegram_id } { $username } · phone: { $phone } · external id: { $external_id }
admin-customer-since = Customer since { $date } · language: { $lang_name }
admin-customer-visits = Visits: { $count }
admin-customer-visit-line = • { $date } — { $location }
admin-customer-answers = Answers: { $count }
admin-customer-answer-line = • { $date } — NPS { $nps }, CES { $ces }: { $reason }
admin-customer-cases = Cases: { $count } (open: { $open })
admin-customer-status-active = Status: receives surveys
admin-customer-status-opted-out = Status: opted out (sends nothing)
admin-customer-status-unreachable = Status: unreachable ({ $reason })
admin-customer-status-forgotten = Status: personal data erased on { $date }
admin-customer-button-forget = 🗑 Forget this customer

## Erasing personal data (/forget), by an admin or by the customer.
admin-forget-usage =
    To erase a customer's personal data: /forget phone, Telegram id, external id, @username or #id
    To erase your own data as a customer: /forget me
admin-forget-confirm = Erase the personal data of customer #{ $id }? Their scores stay in the reports anonymously. This cannot be undone.
admin-forget-button-confirm = 🗑 Yes, erase
admin-forget-button-cancel = Cancel
admin-forget-done = Done: the personal data of customer #{ $id } is erased.
admin-forget-already = Customer #{ $id } was already erased.
admin-forget-cancelled = Cancelled: nothing was erased.
admin-forget-self-confirm = Erase everything we know about you (name, phone, your comments)? Your anonymous scores stay in our statistics. You can come back any time with /start.
admin-forget-self-done = Done: your personal data is erased. Thank you for having been with us!
admin-forget-self-nothing = We keep no personal data about you.

## Other admin tools.
admin-qr-usage = Usage: /qr code — a catalogued location's code (see /locations), for example: /qr main-street
admin-qr-unknown = “{ $location }” is not in the catalogue (see /locations): add it first, then make its QR code.
admin-qr-caption = QR code for { $location }. Customers who scan it open the bot: { $link }
admin-broadcast-test-intro = This is the survey exactly as a customer sees it. Your answers are not counted in the reports.
admin-help =
    Admin commands:
    /anniversaries [YYYY-MM-DD] — today's (or that day's) anniversaries, with a Send button
    /customer phone|id — a customer's card
    /forget phone|id — erase a customer's personal data
    /forget me — erase your own data as a customer
    /locations — the chain's locations, regions and their chats
    /qr location — a QR code for a counter
    /broadcast_test — send yourself the survey as a customer sees it
