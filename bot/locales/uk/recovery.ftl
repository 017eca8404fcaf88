## Робота з незадоволеними клієнтами в цифрах: блок /stats і щотижневого зведення.

recovery-title = 🔁 Робота з незадоволеними
recovery-empty = За цей період немає критиків і кейсів.
recovery-opened = { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критики
   *[many] { $detractors } критиків
} · { $opened ->
    [one] відкрито { $opened } кейс
    [few] відкрито { $opened } кейси
   *[many] відкрито { $opened } кейсів
}
recovery-taken = Взято в роботу: { $n } з { $of } ({ $share }%)
recovery-contacted = Зв'язалися з клієнтом: { $n } з { $of } ({ $share }%)
recovery-resolved = Вирішено: { $n } з { $of } ({ $share }%)
recovery-percentiles = половина за { $p50 }, 90% за { $p90 }
recovery-resolutions = вирішено з повідомленням клієнту: { $notified } · вирішено без повідомлення: { $silent } · закрито без вирішення: { $closed }
recovery-followup = Повторне запитання «ми все виправили?»: поставлено: { $asked } · виправлено: { $fixed } · не виправлено: { $unfixed } · { $reopened ->
    [one] { $reopened } кейс відкрито знову
    [few] { $reopened } кейси відкрито знову
   *[many] { $reopened } кейсів відкрито знову
}
recovery-won-back = Повернули: з { $back ->
    [one] { $back } критика, що повернувся,
   *[other] { $back } критиків, що повернулися,
} { $promoters } поставили 9–10 і { $passives } — 7–8 (знову 0–6: { $again })
recovery-won-back-none = Повернули: жоден критик поки не повернувся
recovery-too-few = — замало, щоб судити (n={ $n }, потрібно щонайменше { $min })
recovery-location-line = { $name }: { $opened ->
    [one] { $opened } кейс
    [few] { $opened } кейси
   *[many] { $opened } кейсів
} · взято { $taken }% · вирішено { $resolved }% · повернули { $won } з { $back }

recovery-duration-minutes = { $n } хв
recovery-duration-hours = { NUMBER($n, maximumFractionDigits: 1) } год
recovery-duration-days = { NUMBER($n, maximumFractionDigits: 1) } дн.
recovery-duration-over = понад { $days } дн.

reports-export-cases-caption = 🔁 Кейси за { $start } – { $end }, по рядку на кейс із термінами
