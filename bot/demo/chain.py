"""The demo chain: a coffee chain of six branches in three regions, its staff, its
touchpoints, its managers and how its customers feel about each branch.

Everything here is data. The branches differ on purpose so that the dashboard has a
story to tell: a branch everyone loves, one that struggles (and a barista who drags it
down), one that is slipping lately, a new branch with too few answers for an NPS.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Zerno Coffee"
# The head office's managers' chat (MANAGER_CHAT_ID) and the demo's one admin.
HEAD_OFFICE_CHAT = -1_000_000_000_100
DEMO_ADMIN_ID = 100_000_001
DEMO_ADMIN_NAME = "Demo Admin"
# The business time zone; every branch has its own as well.
TIMEZONE = "Europe/Kyiv"

DAILY = "08:00-21:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    manager_chat_id: int


@dataclass(frozen=True, slots=True)
class Manager:
    telegram_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Branch:
    """A location and how its customers behave there.

    `nps_mix` is the weight of each NPS score 0..10; `staff_bias` shifts a member of
    staff's scores (negative: worse); `trend` shifts the scores of the last 30 days
    (negative: a branch slipping lately); `opened_days_ago` makes a young branch.
    `languages` are the weights of en, ru, uk among its customers.
    """

    code: str
    name: str
    region: str
    time_zone: str
    manager_chat_id: int
    hours: tuple[tuple[str, str], ...]
    staff: tuple[str, ...]
    managers: tuple[Manager, ...]
    visits_per_day: float
    response_rate: float
    nps_mix: tuple[int, ...]
    languages: tuple[int, int, int]
    staff_bias: tuple[tuple[str, int], ...] = ()
    trend: int = 0
    opened_days_ago: int | None = None
    # The language the branch's managers write their notes in.
    manager_language: str = "uk"

    @property
    def opening_hours(self) -> dict[str, str]:
        return dict(self.hours)


def _week(
    weekday: str = DAILY, saturday: str = "09:00-22:00", sunday: str = "10:00-20:00"
) -> tuple[tuple[str, str], ...]:
    """Opening hours: the same on weekdays, their own on Saturday and Sunday."""
    return (*((day, weekday) for day in WEEKDAYS[:5]), ("sat", saturday), ("sun", sunday))


REGIONS = (
    Region("kyiv", "Kyiv", -1_000_000_000_200),
    Region("west", "West", -1_000_000_000_300),
    Region("south", "South and Caucasus", -1_000_000_000_400),
)

# Touchpoints and their weights: most orders are taken at the counter.
TOUCHPOINTS = (("counter", 55), ("table", 25), ("takeaway", 15), ("delivery", 5))

BRANCHES = (
    Branch(
        code="kyiv-podil",
        name="Kyiv, Podil",
        region="kyiv",
        time_zone="Europe/Kyiv",
        manager_chat_id=-1_000_000_001_001,
        hours=_week("07:30-21:00"),
        staff=("Olena", "Taras", "Iryna", "Maksym"),
        managers=(Manager(200_001, "Kateryna Melnyk"), Manager(200_002, "Andrii Bondar")),
        visits_per_day=16,
        response_rate=0.5,
        nps_mix=(1, 0, 1, 1, 1, 2, 3, 6, 12, 26, 47),
        languages=(10, 35, 55),
    ),
    Branch(
        code="kyiv-obolon",
        name="Kyiv, Obolon",
        region="kyiv",
        time_zone="Europe/Kyiv",
        manager_chat_id=-1_000_000_001_002,
        hours=_week(),
        staff=("Dmytro", "Sofiia", "Yurii"),
        managers=(Manager(200_011, "Oksana Shevchuk"),),
        visits_per_day=13,
        response_rate=0.42,
        nps_mix=(1, 1, 1, 2, 2, 3, 5, 9, 15, 25, 36),
        languages=(5, 45, 50),
        # A new espresso machine broke in the last month: the branch is slipping.
        trend=-2,
    ),
    Branch(
        code="lviv-rynok",
        name="Lviv, Rynok Square",
        region="west",
        time_zone="Europe/Kyiv",
        manager_chat_id=-1_000_000_001_003,
        hours=_week("08:00-22:00", "08:00-23:00", "09:00-22:00"),
        staff=("Marta", "Ostap", "Khrystyna", "Roman"),
        managers=(Manager(200_021, "Marta Hnatyshyn"),),
        visits_per_day=15,
        response_rate=0.55,
        nps_mix=(0, 0, 1, 0, 1, 1, 2, 5, 10, 28, 52),
        languages=(12, 8, 80),
    ),
    Branch(
        code="warsaw-mokotow",
        name="Warsaw, Mokotów",
        region="west",
        time_zone="Europe/Warsaw",
        manager_chat_id=-1_000_000_001_004,
        hours=_week("08:00-20:00", "09:00-20:00", "10:00-18:00"),
        staff=("Anna", "Piotr", "Viktoriia"),
        managers=(Manager(200_031, "Piotr Nowak"),),
        visits_per_day=13,
        response_rate=0.42,
        nps_mix=(1, 1, 1, 1, 2, 3, 4, 8, 16, 24, 34),
        languages=(45, 20, 35),
        manager_language="en",
    ),
    Branch(
        code="odesa-arcadia",
        name="Odesa, Arcadia",
        region="south",
        time_zone="Europe/Kyiv",
        manager_chat_id=-1_000_000_001_005,
        hours=_week("08:00-23:00", "08:00-00:00", "09:00-23:00"),
        staff=("Serhii", "Alina", "Vadym", "Nadiia"),
        managers=(Manager(200_041, "Vadym Koval"), Manager(200_042, "Iryna Lysenko")),
        visits_per_day=14,
        response_rate=0.45,
        nps_mix=(3, 2, 3, 4, 5, 7, 8, 11, 14, 18, 25),
        languages=(8, 62, 30),
        # One barista's manner is what the complaints are about.
        staff_bias=(("Vadym", -3),),
        # ... and the branch is getting better since its new manager started.
        trend=1,
    ),
    Branch(
        code="tbilisi-vake",
        name="Tbilisi, Vake",
        region="south",
        time_zone="Asia/Tbilisi",
        manager_chat_id=-1_000_000_001_006,
        hours=_week("09:00-21:00", "10:00-22:00", "10:00-22:00"),
        staff=("Nino", "Giorgi"),
        managers=(Manager(200_051, "Nino Beridze"),),
        visits_per_day=5,
        response_rate=0.4,
        nps_mix=(0, 0, 1, 1, 1, 2, 3, 7, 14, 26, 40),
        languages=(40, 50, 10),
        # Opened three weeks before the demo's last day: too few answers for an NPS.
        opened_days_ago=21,
        manager_language="ru",
    ),
)

LANGUAGES = ("en", "ru", "uk")
