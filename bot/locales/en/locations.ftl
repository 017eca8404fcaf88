## /locations: the chain's catalogue. $count — how many.
locations-title = { $count ->
    [one] 🏬 { $count } location
   *[other] 🏬 { $count } locations
}
locations-empty = None yet: add them with PUT /api/v1/locations/CODE or otklik locations import FILE.csv.
locations-not-set = not set
locations-zone = zone { $zone }
locations-chat = chat { $chat }
locations-head-office = head office
locations-region = region { $region }
locations-hours = hours { $hours }
locations-regions-title = { $count ->
    [one] 🗺 { $count } region
   *[other] 🗺 { $count } regions
}
locations-region-line = <b>{ $code }</b> · { $name } · chat { $chat }
