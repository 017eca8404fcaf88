## Отчёты в боте: воронка доставки под /stats, подписи /chart и /export.

reports-funnel-title = 📨 Воронка доставки по точкам:
reports-funnel-empty = За этот период визитов не было.
reports-funnel-line = { $name }: визитов { $reported } · запланировано { $scheduled } · отправлено { $sent } · ответили { $answered } · ошибки { $failed } · заблокировали { $blocked } · истекло { $expired }
reports-funnel-skipped = пропущено: { $reasons }
reports-chart-caption = NPS, { $start } – { $end }
reports-export-caption = Ответы, { $start } – { $end }
