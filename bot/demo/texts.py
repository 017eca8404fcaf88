"""What the demo's customers and managers write: the customers' reasons in en, ru and
uk by how they scored, and the managers' notes. Data, not interface text: these are
the words people type, so they are not translations of each other word for word."""

from __future__ import annotations

# (en, ru, uk) for each reason. Detractors (NPS 0..6) say what went wrong.
DETRACTOR_REASONS: tuple[tuple[str, str, str], ...] = (
    (
        "Waited almost 20 minutes for one flat white, and nobody said a word.",
        "Ждал флэт уайт почти 20 минут, и никто ничего не объяснил.",
        "Чекав флет вайт майже 20 хвилин, і ніхто нічого не пояснив.",
    ),
    (
        "The cappuccino was lukewarm and the milk was burnt.",
        "Капучино было чуть тёплым, а молоко пригорело.",
        "Капучино було ледь теплим, а молоко пригоріле.",
    ),
    (
        "The barista was rude when I asked to remake my drink.",
        "Бариста нагрубил, когда я попросила переделать напиток.",
        "Бариста нагрубив, коли я попросила переробити напій.",
    ),
    (
        "Tables were sticky and the bin by the door was overflowing.",
        "Столы липкие, урна у входа переполнена.",
        "Столи липкі, смітник біля входу переповнений.",
    ),
    (
        "They charged me twice for the croissant and refused to fix it.",
        "С меня дважды списали за круассан, и исправлять отказались.",
        "З мене двічі списали за круасан, і виправляти відмовились.",
    ),
    (
        "Ordered oat milk, got regular milk. I'm lactose intolerant.",
        "Заказала на овсяном молоке, а сделали на обычном. У меня непереносимость лактозы.",
        "Замовила на вівсяному молоці, а зробили на звичайному. У мене непереносимість лактози.",
    ),
    (
        "Delivery came 50 minutes late and the coffee was cold.",
        "Доставка опоздала на 50 минут, кофе остыл.",
        "Доставка запізнилася на 50 хвилин, кава вистигла.",
    ),
    (
        "Only one person working at 8:30 in the morning, the queue was out the door.",
        "В 8:30 утра работал один человек, очередь до улицы.",
        "О 8:30 ранку працювала одна людина, черга аж на вулицю.",
    ),
    (
        "The card terminal didn't work and they only took cash.",
        "Терминал не работал, принимали только наличные.",
        "Термінал не працював, приймали лише готівку.",
    ),
    (
        "Prices went up again, and the cups got smaller.",
        "Цены опять выросли, а стаканы стали меньше.",
        "Ціни знову виросли, а стаканчики поменшали.",
    ),
    (
        "The sandwich was dry, clearly yesterday's.",
        "Сэндвич сухой, явно вчерашний.",
        "Сендвіч сухий, явно вчорашній.",
    ),
    (
        "Loud music, you can't hear yourself talk, and nobody would turn it down.",
        "Музыка очень громкая, разговаривать невозможно, сделать тише отказались.",
        "Музика дуже гучна, неможливо розмовляти, зробити тихіше відмовилися.",
    ),
    (
        "My name was called for someone else's order, mine was forgotten.",
        "Назвали моё имя для чужого заказа, а про мой забыли.",
        "Назвали моє ім'я для чужого замовлення, а про моє забули.",
    ),
    (
        "The espresso machine was broken again, only filter coffee.",
        "Кофемашина опять сломана, был только фильтр.",
        "Кавомашина знову зламана, був лише фільтр.",
    ),
    (
        "Toilet was closed 'for cleaning' the whole hour I was there.",
        "Туалет был закрыт «на уборку» весь час, пока я там был.",
        "Туалет був зачинений «на прибирання» всю годину, поки я там був.",
    ),
    (
        "No sockets work by the window, and the wifi kept dropping.",
        "Розетки у окна не работают, вайфай постоянно отваливается.",
        "Розетки біля вікна не працюють, вайфай постійно відвалюється.",
    ),
)

# Passives (7..8): fine, but something is missing.
PASSIVE_REASONS: tuple[tuple[str, str, str], ...] = (
    (
        "Good coffee, but a bit pricey for the size.",
        "Кофе хороший, но дороговато для такого объёма.",
        "Кава добра, але дорогувато як на такий об'єм.",
    ),
    (
        "Nice place, though I had to wait for a free table.",
        "Приятное место, но пришлось ждать свободный столик.",
        "Приємне місце, але довелося чекати на вільний столик.",
    ),
    (
        "Tasty, but the pastries ran out by lunchtime.",
        "Вкусно, но выпечка закончилась уже к обеду.",
        "Смачно, але випічка закінчилась уже до обіду.",
    ),
    (
        "Everything was OK. Nothing special.",
        "Всё нормально. Ничего особенного.",
        "Все нормально. Нічого особливого.",
    ),
    (
        "Fast service, but the music was too loud for me.",
        "Обслужили быстро, но музыка для меня громковата.",
        "Обслужили швидко, але музика для мене гучнувата.",
    ),
    (
        "I'd like more plant-based milk options.",
        "Хотелось бы больше вариантов растительного молока.",
        "Хотілося б більше варіантів рослинного молока.",
    ),
    (
        "Coffee was good, the cup lid leaked a little.",
        "Кофе хороший, крышка стакана немного протекала.",
        "Кава добра, кришка стаканчика трохи протікала.",
    ),
    (
        "Friendly staff, slow at the till.",
        "Персонал приветливый, но на кассе медленно.",
        "Персонал привітний, але на касі повільно.",
    ),
    (
        "Would be perfect with a loyalty card.",
        "Было бы идеально с картой лояльности.",
        "Було б ідеально з карткою лояльності.",
    ),
)

# Promoters (9..10): what made the visit.
PROMOTER_REASONS: tuple[tuple[str, str, str], ...] = (
    (
        "Best flat white in town, and they remembered my order!",
        "Лучший флэт уайт в городе, и мой заказ уже помнят!",
        "Найкращий флет вайт у місті, і моє замовлення вже пам'ятають!",
    ),
    (
        "Super friendly barista, recommended a great filter coffee.",
        "Очень приветливый бариста, посоветовал отличный фильтр.",
        "Дуже привітний бариста, порадив чудовий фільтр.",
    ),
    (
        "Cozy, quiet in the morning, perfect for working.",
        "Уютно, утром тихо, идеально для работы.",
        "Затишно, зранку тихо, ідеально для роботи.",
    ),
    (
        "Fresh croissants and quick service even with a queue.",
        "Свежие круассаны и быстрое обслуживание, даже при очереди.",
        "Свіжі круасани і швидке обслуговування навіть із чергою.",
    ),
    (
        "They made my latte again without me asking when it spilled. Thank you!",
        "Когда латте пролился, мне сразу сделали новый без просьбы. Спасибо!",
        "Коли лате розлилося, мені одразу зробили нове без прохання. Дякую!",
    ),
    (
        "Clean, bright, great music and very polite staff.",
        "Чисто, светло, хорошая музыка и очень вежливый персонал.",
        "Чисто, світло, гарна музика і дуже ввічливий персонал.",
    ),
    (
        "Delivery arrived hot and 10 minutes early.",
        "Доставка приехала горячей и на 10 минут раньше.",
        "Доставка приїхала гарячою і на 10 хвилин раніше.",
    ),
    (
        "Love the seasonal raf, please keep it on the menu.",
        "Обожаю сезонный раф, оставьте его в меню, пожалуйста.",
        "Обожнюю сезонний раф, залиште його в меню, будь ласка.",
    ),
    ("Everything was perfect.", "Всё идеально.", "Все ідеально."),
    ("Great coffee as always!", "Отличный кофе, как всегда!", "Чудова кава, як завжди!"),
    (
        "Kind staff, they even have a bowl of water for dogs.",
        "Добрый персонал, даже миска с водой для собак есть.",
        "Добрий персонал, навіть миска з водою для собак є.",
    ),
)

# What managers write, by language (the branch's managers write theirs).
RESOLUTION_NOTES: dict[str, tuple[str, ...]] = {
    "en": (
        "Called the customer, apologised, gave a free drink voucher. Talked to the shift.",
        "Refunded the double charge; the terminal's settings are fixed.",
        "Added a second barista to the morning shift from Monday.",
        "Replaced the milk jug thermometer; the team re-checked the recipe.",
    ),
    "ru": (
        "Позвонили клиенту, извинились, подарили сертификат на напиток. Провели разбор со сменой.",
        "Вернули двойное списание, терминал перенастроили.",
        "С понедельника на утреннюю смену выходит второй бариста.",
        "Заменили термометр питчера, команда повторила рецептуру.",
    ),
    "uk": (
        "Зателефонували клієнтці, вибачились, подарували сертифікат на напій."
        " Розібрали зі зміною.",
        "Повернули подвійне списання, термінал переналаштували.",
        "З понеділка на ранкову зміну виходить другий бариста.",
        "Замінили термометр пітчера, команда повторила рецептуру.",
    ),
}
CLOSE_REASONS: dict[str, tuple[str, ...]] = {
    "en": ("Prices are set by the head office.", "Could not reach the customer."),
    "ru": ("Цены устанавливает головной офис.", "Не удалось связаться с клиентом."),
    "uk": ("Ціни встановлює головний офіс.", "Не вдалося зв'язатися з клієнтом."),
}
MANAGER_MESSAGES: dict[str, tuple[str, ...]] = {
    "en": ("Hello! I'm the branch manager. I'm sorry about your visit, could you tell me more?",),
    "ru": ("Здравствуйте! Я управляющий кофейни. Очень жаль, расскажете подробнее?",),
    "uk": ("Вітаю! Я керівник кав'ярні. Дуже шкода, розкажете детальніше?",),
}
CUSTOMER_REPLIES: dict[str, tuple[str, ...]] = {
    "en": ("It was around 9 am, the girl at the till. Thanks for asking.",),
    "ru": ("Это было около 9 утра, девушка на кассе. Спасибо, что спросили.",),
    "uk": ("Це було близько 9 ранку, дівчина на касі. Дякую, що запитали.",),
}

FIRST_NAMES = (
    "Olha", "Ivan", "Natalia", "Oleksii", "Yuliia", "Bohdan", "Anastasiia", "Serhii",
    "Daria", "Mykola", "Emma", "James", "Olivia", "Liam", "Ekaterina", "Pavel", "Tamar",
    "Levan", "Agnieszka", "Tomasz", "Sofia", "Artem", "Polina", "Denys", "Viktor", "Lesia",
)  # fmt: skip
LAST_INITIALS = "ABDHKLMNPRSTVZ"
