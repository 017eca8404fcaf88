## /locations: каталог точок мережі. $count — скільки.
locations-title = { $count ->
    [one] 🏬 { $count } точка
    [few] 🏬 { $count } точки
   *[many] 🏬 { $count } точок
}
locations-empty = Поки жодної: додайте через PUT /api/v1/locations/КОД або otklik locations import ФАЙЛ.csv.
locations-not-set = не задано
locations-zone = пояс { $zone }
locations-chat = чат { $chat }
locations-head-office = головний офіс
locations-region = регіон { $region }
locations-hours = години { $hours }
locations-regions-title = { $count ->
    [one] 🗺 { $count } регіон
    [few] 🗺 { $count } регіони
   *[many] 🗺 { $count } регіонів
}
locations-region-line = <b>{ $code }</b> · { $name } · чат { $chat }
