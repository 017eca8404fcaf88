"""Words of a reason, the way the classifier compares them: normalised tokens, their stems
in Russian, Ukrainian and English, negation and contrast words, and the language.

Everything here is pure Python and a few small tables: no model, no download. Russian and
English stems come from the Snowball stemmers (snowballstemmer, BSD-3); Snowball has no
Ukrainian stemmer, so `uk_stem` strips Ukrainian inflections itself. A word is compared by
every stem that fits its alphabet, so mixed Russian-Ukrainian speech matches phrases of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'", "ё": "е"})
_RUNS = re.compile(r"(\w)\1{2,}")  # "дооолго", "sooo": three or more of a letter are one
# Latin letters that look Cyrillic, typed by mistake inside a Cyrillic word ("oчередь").
_HOMOGLYPHS = str.maketrans("aceiopxyk", "асеіорхук")
_CYRILLIC = re.compile(r"[а-яіїєґ]")
# Sentence and clause boundaries: multi-word phrases never match across them.
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]+|\s[-–—]\s")

# Words that negate the word after them ("не хамил", "no queue", "without waiting").
NEGATORS = frozenset(
    {"не", "ни", "ні", "нет", "нема", "немає", "без", "no", "not", "never", "without", "nothing"}
)
# Words that may stand between a negator and what it negates ("не очень вежливо").
BRIDGES = frozenset(
    {
        "очень",
        "особо",
        "слишком",
        "совсем",
        "был",
        "была",
        "было",
        "были",
        "дуже",
        "надто",
        "зовсім",
        "був",
        "була",
        "було",
        "були",
        "very",
        "too",
        "so",
        "that",
        "really",
        "was",
        "were",
        "is",
        "are",
        "be",
        "been",
        "any",
        "a",
        "the",
        "at",
        "all",
        "особливо",
        "сильно",
    }
)
# Words after a noun that deny it ("очереди не было", "черги немає").
POST_NEGATORS = frozenset({"нет", "нема", "немає", "не"})
# A contrast after a denied problem makes it a concession: "не хамил, но очередь огромная".
CONTRASTS = frozenset(
    {"но", "однако", "зато", "а", "але", "проте", "однак", "зате", "but", "however", "yet"}
)
# A concession word before a denied problem does the same: "хотя не хамили, ...".
CONCESSIVES = frozenset({"хотя", "хоть", "хоча", "хоч", "although", "though"})


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UK_LETTERS = frozenset("іїєґ")
_RU_LETTERS = frozenset("ыэъ")
_OTHER_CYRILLIC = frozenset("әғқңөұүһўђјљњћџ")
_UK_WORDS = _set(
    """і й що це дуже було був була були немає нема та але ще як мені мене вони який яка
    яке які коли де тому бо чи також лише тільки дякую її цей ця після від трохи завжди
    ніколи нічого зовсім гарно добре погано швидко довго чекати чекали чекав черга черги
    чергу черзі можна треба буде вже щось хтось ввічливо ввічливий ввічливі грубо ціна ціни
    дорого дешево смачно брудно чисто каса касир оплата картка карткою застосунок сайт
    працює працював працівники працівник персоналу обслуговування обслуговують зручно
    незручно їх його ні гаразд чудово
    класно жахливо жах дякую гарно хвилин годину годин"""
)
_RU_WORDS = _set(
    """и что это очень был была было были нет но еще как мне меня они который которая когда
    где потому или тоже только спасибо его ее этот эта после от всё хорошо плохо быстро
    долго ждать ждали ждал очередь очереди можно надо будет уже вообще ничего совсем хотя
    вежливо вежливый вежливые грубо цена цены дешево вкусно грязно чисто касса кассир
    оплата карта картой приложение работает работал сотрудники сотрудник персонала
    обслуживание обслуживают удобно неудобно минут час часа часов
    отлично прекрасно ужасно замечательно классно"""
)
_EN_WORDS = _set(
    """the a an and or but not no very so too was were is are be been it its this that
    they them their we our us i me my you your he she his her of to in on at for with
    without from by as all any good great bad nice fine ok okay poor terrible awful
    excellent friendly rude staff service slow fast quick long wait waited waiting queue
    line price prices expensive cheap clean dirty app website card payment food quality
    everything nothing never always again thanks thank love loved liked like did didn't
    don't wasn't had have has got get could would should can will just only really
    stars star best worst place people"""
)
_OTHER_LATIN_WORDS = _set(
    """der die das und ist nicht sehr gut schlecht le la les et est tres très bien el los
    las y muy bueno malo que jest nie bardzo dobrze zle źle vse vsyo bylo ochen ochen'
    horosho khorosho plokho ploho spasibo dyakuyu duzhe ne"""
)

_ru = snowballstemmer.stemmer("russian")
_en = snowballstemmer.stemmer("english")

# Ukrainian inflections, longest first; the reflexive suffix goes before them.
_UK_ENDINGS = tuple(
    sorted(
        _set(
            """ування ювання ання ення яння ість ості остю ого ому ими іми ий ій ої ою ею єю
            ім им их іх ього ьому ати яти ити іти ать ять уть ють ить іть ала ила іла ало ило
            али или іли ував ював ав ив ів їв ла ло ли ти ть ємо емо имо ете ите ами ями ах
            ях ові еві єві ом ем єм ам ям ей а я и і ї у ю о е є ь в"""
        ),
        key=lambda ending: (-len(ending), ending),
    )
)


def uk_stem(word: str) -> str:
    """Strip one Ukrainian inflection (and a reflexive -ся/-сь), keeping at least 3 letters."""
    for reflexive in ("ся", "сь"):
        if word.endswith(reflexive) and len(word) > 5:
            word = word[: -len(reflexive)]
            break
    for ending in _UK_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


@lru_cache(maxsize=20_000)
def stems(token: str) -> frozenset[str]:
    """Every stem a token may be compared by: Russian and Ukrainian for Cyrillic, English
    for Latin (the token itself too, so an unstemmed phrase word still matches)."""
    if _CYRILLIC.search(token):
        return frozenset({token, _ru.stemWord(token), uk_stem(token)})
    return frozenset({token, _en.stemWord(token)})


def phrase_stem(word: str, language: str) -> str:
    """The stem of a taxonomy word in its own language."""
    if language == "en":
        return str(_en.stemWord(word))
    if language == "uk":
        return uk_stem(word)
    return str(_ru.stemWord(word))


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe, ё as е, runs of a repeated letter shortened."""
    return _RUNS.sub(r"\1", text.lower().translate(_APOSTROPHES))


def _fix_script(word: str) -> str:
    """A mostly Cyrillic word with a Latin look-alike letter in it is read as Cyrillic."""
    if _CYRILLIC.search(word) and re.search(r"[a-z]", word):
        return word.translate(_HOMOGLYPHS)
    return word


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    clause: int


def tokenise(text: str) -> list[Token]:
    """Normalised words with the number of the clause each stands in."""
    tokens: list[Token] = []
    clause = 0
    for part in _CLAUSE_BREAK.split(normalise(text)):
        clause += 1
        for word in _WORD.findall(part):
            if word in CONTRASTS:
                clause += 1  # "не хамил но очередь": a contrast starts a clause too
            tokens.append(Token(_fix_script(word), clause))
    return tokens


def is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


def detect_language(words: list[str]) -> str:
    """ru, uk or en by alphabet and a few telling words; "other" for anything else."""
    cyrillic = latin = 0
    ru = uk = en = other = 0
    for word in words:
        letters = set(word)
        if _CYRILLIC.search(word):
            cyrillic += len(word)
            if letters & _OTHER_CYRILLIC:
                other += 3
            uk += len(letters & _UK_LETTERS) + 2 * (word in _UK_WORDS) + ("'" in word)
            ru += len(letters & _RU_LETTERS) + 2 * (word in _RU_WORDS)
        elif word.isascii():
            latin += len(word)
            en += word in _EN_WORDS
            other += word in _OTHER_LATIN_WORDS
        else:
            latin += len(word)
            other += 2  # Latin letters English does not use: ä, ł, ñ, ...
    if cyrillic == 0 and latin == 0:
        return "other"
    if cyrillic >= latin:
        if other > ru + uk:
            return "other"
        return "uk" if uk > ru else "ru"
    return "other" if other > en else "en"
