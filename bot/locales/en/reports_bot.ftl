## Reports in the bot: the delivery funnel under /stats, /chart and /export captions.

reports-funnel-title = 📨 Delivery funnel by location:
reports-funnel-empty = No visits were reported in this period.
reports-funnel-line = { $name }: reported { $reported } · scheduled { $scheduled } · sent { $sent } · answered { $answered } · failed { $failed } · blocked { $blocked } · expired { $expired }
reports-funnel-skipped = skipped: { $reasons }
reports-chart-caption = NPS, { $start } – { $end }
reports-export-caption = Responses, { $start } – { $end }
