## /locations: каталог точек сети. $count — сколько.
locations-title = { $count ->
    [one] 🏬 { $count } точка
    [few] 🏬 { $count } точки
   *[many] 🏬 { $count } точек
}
locations-empty = Пока нет ни одной: добавьте через PUT /api/v1/locations/КОД или otklik locations import ФАЙЛ.csv.
locations-not-set = не задан
locations-zone = пояс { $zone }
locations-chat = чат { $chat }
locations-head-office = головной офис
locations-region = регион { $region }
locations-hours = часы { $hours }
locations-regions-title = { $count ->
    [one] 🗺 { $count } регион
    [few] 🗺 { $count } региона
   *[many] 🗺 { $count } регионов
}
locations-region-line = <b>{ $code }</b> · { $name } · чат { $chat }
