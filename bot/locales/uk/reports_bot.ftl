## Звіти в боті: воронка доставки під /stats, підписи /chart і /export.

reports-funnel-title = 📨 Воронка доставки за точками:
reports-funnel-empty = За цей період візитів не було.
reports-funnel-line = { $name }: візитів { $reported } · заплановано { $scheduled } · надіслано { $sent } · відповіли { $answered } · помилки { $failed } · заблокували { $blocked } · минуло { $expired }
reports-funnel-skipped = пропущено: { $reasons }
reports-chart-caption = NPS, { $start } – { $end }
reports-export-caption = Відповіді, { $start } – { $end }
