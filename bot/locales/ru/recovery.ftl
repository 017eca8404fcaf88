## Работа с недовольными клиентами в цифрах: блок /stats и еженедельной сводки.

recovery-title = 🔁 Работа с недовольными
recovery-empty = За этот период нет критиков и кейсов.
recovery-opened = { $detractors ->
    [one] { $detractors } критик
    [few] { $detractors } критика
   *[many] { $detractors } критиков
} · { $opened ->
    [one] открыт { $opened } кейс
    [few] открыто { $opened } кейса
   *[many] открыто { $opened } кейсов
}
recovery-taken = Взято в работу: { $n } из { $of } ({ $share }%)
recovery-contacted = Связались с клиентом: { $n } из { $of } ({ $share }%)
recovery-resolved = Решено: { $n } из { $of } ({ $share }%)
recovery-percentiles = половина за { $p50 }, 90% за { $p90 }
recovery-resolutions = решено с сообщением клиенту: { $notified } · решено без сообщения: { $silent } · закрыто без решения: { $closed }
recovery-followup = Повторный вопрос «мы всё исправили?»: задано: { $asked } · исправлено: { $fixed } · не исправлено: { $unfixed } · { $reopened ->
    [one] { $reopened } кейс открыт заново
    [few] { $reopened } кейса открыты заново
   *[many] { $reopened } кейсов открыты заново
}
recovery-won-back = Вернули: из { $back ->
    [one] { $back } вернувшегося критика
   *[other] { $back } вернувшихся критиков
} { $promoters } поставили 9–10 и { $passives } — 7–8 (снова 0–6: { $again })
recovery-won-back-none = Вернули: ни один критик пока не вернулся
recovery-too-few = — слишком мало, чтобы судить (n={ $n }, нужно не меньше { $min })
recovery-location-line = { $name }: { $opened ->
    [one] { $opened } кейс
    [few] { $opened } кейса
   *[many] { $opened } кейсов
} · взято { $taken }% · решено { $resolved }% · вернули { $won } из { $back }

recovery-duration-minutes = { $n } мин
recovery-duration-hours = { NUMBER($n, maximumFractionDigits: 1) } ч
recovery-duration-days = { NUMBER($n, maximumFractionDigits: 1) } дн.
recovery-duration-over = больше { $days } дн.

reports-export-cases-caption = 🔁 Кейсы за { $start } – { $end }, по строке на кейс со сроками
