# Descriptions in the command menus (setMyCommands), at most 256 characters each.
menu-start = Get surveys after your visits
menu-stop = Stop the surveys
menu-forget = Erase my personal data
menu-help = What this bot does
menu-stats = Feedback report: NPS and more
menu-chart = NPS by week as a chart
menu-topics = Which topics cost NPS: /topics 30d
menu-cases = Open cases
menu-case = One case's history: /case 12
menu-export = Answers as a CSV file
menu-admin = Admin commands
menu-dashboard = The dashboard (Mini App)
menu-locations = The chain's locations
menu-anniversaries = Anniversary thank-yous
menu-customer = Find a customer
menu-qr = QR code for a location
menu-broadcast_test = Preview the survey
