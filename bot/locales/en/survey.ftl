## Customer-facing texts of the core loop: start, linking, survey, opt-out.

start-welcome = Hello, { $name }! This is { $company }. After your visits we will ask you { $taps ->
    [1] one quick question about our service: it takes one tap
    [2] two quick questions about our service: it takes two taps
    [3] three quick questions about our service: it takes three taps
   *[other] a few quick questions about our service: it takes a few taps
} and helps us get better.
start-share-phone = So that we recognise your visits, you can share your phone number with the button below. This is optional.
start-share-phone-button = 📱 Share my phone number
start-linked = Thank you, { $name }: your { $company } customer account is now linked to this chat.
start-link-invalid = This link is no longer valid. You are registered anyway, thank you!
start-visit-registered = Thank you for visiting { $location }! We will ask for your opinion shortly.
start-visit-skipped = Thank you for visiting { $location }!
start-phone-saved = Thank you! Your phone number is saved.
start-phone-not-yours = Please share your own contact with the button below.
start-back = Welcome back! Surveys are on again. To stop them at any time, send /stop.
help-text = { $company } asks for your opinion after a visit. Commands: /stop to stop the surveys, /start to turn them back on, /forget to erase your personal data.

stop-done = Done: we will not send you surveys any more. If you change your mind, send /start.
stop-unknown = You have not received any surveys from us. Send /start to begin.

survey-intro = Thank you for visiting { $location }!
survey-intro-no-location = Thank you for visiting { $company }!
survey-intro-yesterday = Thank you for visiting { $location } yesterday! How was it?
survey-intro-no-location-yesterday = Thank you for visiting { $company } yesterday! How was it?
survey-nps-question = How likely are you to recommend { $company } to a friend or colleague?
survey-nps-scale = 0 = not at all likely, 10 = extremely likely.
survey-ces-question = “{ $company } made it easy for me to get what I came for.” Do you agree?
survey-ces-scale = 1 = strongly disagree, 7 = strongly agree.
survey-csat-question = How satisfied are you with today’s visit?
survey-csat-scale = 1 = very dissatisfied, 5 = very satisfied.
survey-your-score = Your score: { $score }
survey-reason-detractor = We are sorry we let you down. What went wrong? Please write in a message: a manager will read it.
survey-reason-passive = Thank you! What could we do better to earn a 10? Please write in a message.
survey-reason-promoter = Thank you! What did you like most? Please write in a message.
survey-skip = Skip
survey-thanks = Thank you for your feedback! It helps us get better.
survey-thanks-detractor = Thank you for telling us. A manager will look into it.
survey-closed = This survey is closed. Thank you!
survey-not-yours = This button is not for you.
survey-button-invalid = This button is not valid. Please use the buttons of the survey.
survey-already-answered = You have already answered this question.
survey-reminder = A gentle reminder: your opinion of your visit to { $location } matters to us. The survey above takes { $taps ->
    [1] one tap
    [2] two taps
    [3] three taps
   *[other] a few taps
}.
survey-reminder-no-location = A gentle reminder: your opinion of { $company } matters to us. The survey above takes { $taps ->
    [1] one tap
    [2] two taps
    [3] three taps
   *[other] a few taps
}.
survey-use-buttons = Please use the buttons of the survey above.
survey-type-score = Please tap a score in the survey above, or type a number from { $low } to { $high }.
survey-no-open = Thank you for your message! If you want to tell us about a visit, we will ask you after the next one.

alert-title = ⚠️ Unhappy customer
alert-nps = NPS: { $score }
alert-ces = CES: { $score }
alert-ces-pending = CES: not answered yet
alert-csat = CSAT: { $score }/5
alert-reason = Reason: { $reason }
alert-topics = Topics: { $topics }
alert-reason-pending = Reason: not given yet
alert-reason-skipped = Reason: skipped
alert-customer = Customer: { $name }
alert-contact = Contact: { $contact }
alert-location = Location: { $location }
alert-staff = Staff: { $staff }
alert-touchpoint = Touchpoint: { $touchpoint }
alert-visit-time = Visit: { $time }
alert-unknown = —
