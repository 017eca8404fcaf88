"""The topic classifier: negation, mixed speech, typos, the topics file and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.topics import classify_lines
from bot.topics import TaxonomyError, TopicClassifier, load_taxonomy

DEFAULT_IDS = (
    "wait",
    "staff_attitude",
    "staff_competence",
    "price",
    "product",
    "cleanliness",
    "payment",
    "access",
    "digital",
    "communication",
)


@pytest.fixture(scope="module")
def classifier() -> TopicClassifier:
    return TopicClassifier(load_taxonomy())


def topics(classifier: TopicClassifier, text: str) -> tuple[str, ...]:
    return classifier.classify(text).topics


def test_the_default_taxonomy_has_the_fixed_ids_labelled_in_three_languages() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ids() == DEFAULT_IDS
    assert taxonomy.label("wait", "ru") == "Ожидание"
    assert taxonomy.label("wait", "uk") == "Очікування"
    assert taxonomy.label("wait", "en") == "Waiting"
    for topic in taxonomy.topics:
        assert set(topic.labels) == {"ru", "uk", "en"}, topic.id
        assert set(topic.phrases) == {"ru", "uk", "en"}, topic.id
    assert taxonomy.label("gone_topic", "ru") == "gone_topic"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("персонал не хамил, но очередь огромная", ("wait",)),
        ("персонал не хамил но очередь огромная", ("wait",)),
        ("хотя кассир не грубил, в зале грязно", ("cleanliness",)),
        ("staff were not rude, but the queue was endless", ("wait",)),
        ("не дорого, но невкусно", ("product",)),
        # A denied problem with no contrast is still about the topic (a promoter's praise).
        ("без очереди, всё быстро", ("wait",)),
        # Negating a good thing names a problem.
        ("консультант не смог помочь, но был вежлив", ("staff_attitude", "staff_competence")),
        ("не перезвонили, как обещали", ("communication",)),
        ("персонал невежливый", ("staff_attitude",)),
    ],
)
def test_negation_and_concessions(
    classifier: TopicClassifier, text: str, expected: tuple[str, ...]
) -> None:
    assert topics(classifier, text) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("черга величезна, касирка нагрубила", "uk", ("wait", "staff_attitude")),
        ("дуже довго чекали, але персонал ввічливий", "uk", ("wait", "staff_attitude")),
        ("очередь огромная, касирка нагрубила", "ru", ("wait", "staff_attitude")),
        # Surzhyk: Russian and Ukrainian words in one sentence.
        # Its language is the one most of its words are in.
        ("ціни конечно кусаются, но вкусно", "ru", ("price", "product")),
        ("долго ждали, черга була дуже велика", "uk", ("wait",)),
        ("The app crashed twice when I paid", "en", ("payment", "digital")),
    ],
)
def test_languages_and_mixed_speech(
    classifier: TopicClassifier, text: str, language: str, expected: tuple[str, ...]
) -> None:
    result = classifier.classify(text)
    assert (result.language, result.topics) == (language, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("очерель огромная", ("wait",)),  # a wrong letter
        ("очень грязнно", ("cleanliness",)),  # a doubled one
        ("прилложение тупит", ("digital",)),
        ("oчередь", ("wait",)),  # a Latin o inside a Cyrillic word
        ("дооолго", ("wait",)),
        ("terible servise, very rdue", ("staff_attitude",)),
        ("из минусов только цены", ("price",)),  # "минус" is no typo of "минут"
    ],
)
def test_typos(classifier: TopicClassifier, text: str, expected: tuple[str, ...]) -> None:
    assert topics(classifier, text) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("", "other"),
        ("👍👍", "other"),
        ("alles gut, danke", "other"),
        ("10", "other"),
        ("ok", "en"),
        ("Всё отлично", "ru"),
        ("Все чудово", "uk"),
    ],
)
def test_reasons_about_no_topic(classifier: TopicClassifier, text: str, language: str) -> None:
    result = classifier.classify(text)
    assert (result.language, result.topics) == (language, ())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_extends_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[topics.delivery]
labels = { en = "Delivery", ru = "Доставка", uk = "Доставка" }
phrases = { ru = ["доставк*", "курьер*"], uk = ["доставк*", "кур'єр*"], en = ["deliver*"] }

[topics.wait]
labels = { en = "Queues" }
phrases = { ru = ["стоял* в зале"] }
""",
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.ids() == (*DEFAULT_IDS, "delivery")
    assert taxonomy.label("wait", "en") == "Queues"
    assert taxonomy.label("wait", "ru") == "Ожидание"
    classifier = TopicClassifier(taxonomy)
    assert classifier.classify("курьер опоздал на час").topics == ("wait", "delivery")
    assert classifier.classify("стояли в зале").topics == ("wait",)


def test_a_file_replaces_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
mode = "replace"
[topics.coffee]
labels = { en = "Coffee" }
phrases = { en = ["coffee", "latte*"] }
""",
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.ids() == ("coffee",)
    classifier = TopicClassifier(taxonomy)
    assert classifier.classify("the lattes were cold and the queue long").topics == ("coffee",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[topics.wait\n", "not valid TOML"),
        ('mode = "merge"\n[topics.x]\n', 'mode must be "extend" or "replace"'),
        ("colour = 1\n", "unknown key(s) colour"),
        ('[topics.Bad-Id]\nlabels = { en = "x" }\n', "an id is 1-32 of a-z"),
        ('[topics.new]\nphrases = { en = ["x"] }\n', "needs at least an English label"),
        ('[topics.new]\nlabels = { en = "New" }\n', "has no phrases"),
        ('[topics.new]\nlabels = { de = "Neu" }\n', "unknown language 'de'"),
        ('[topics.wait]\nphrases = { en = ["x*y"] }\n', "bad phrase 'x*y'"),
        ('[topics.wait]\nphrases = { en = ["ab*"] }\n', "a prefix needs 3 letters"),
        ('[topics.wait]\nphrases = { en = "queue" }\n', "expected a list of texts"),
        ('[topics.wait]\nsynonyms = ["x"]\n', "unknown key(s) synonyms"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TaxonomyError) as raised:
        load_taxonomy(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read it"):
        load_taxonomy(tmp_path / "absent.toml")


def test_classify_writes_one_json_line_per_input_line(classifier: TopicClassifier) -> None:
    source = io.BytesIO("очередь огромная\n\nThe staff were lovely\r\n".encode())
    target = io.StringIO()
    assert classify_lines(classifier, source, target) == 3
    lines = [json.loads(line) for line in target.getvalue().splitlines()]
    assert lines == [
        {"text": "очередь огромная", "language": "ru", "topics": ["wait"]},
        {"text": "", "language": "other", "topics": []},
        {"text": "The staff were lovely", "language": "en", "topics": ["staff_attitude"]},
    ]


def test_the_cli_runs_without_bot_settings_and_reads_topics_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("BOT_TOKEN", "API_TOKEN", "MANAGER_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    path = write(
        tmp_path,
        '[topics.kids]\nlabels = { en = "Kids" }\nphrases = { ru = ["детск*"] }\n',
    )
    monkeypatch.setenv("TOPICS_FILE", str(path))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("детская комната\n".encode())))
    assert main(["topics", "classify"]) == 0
    out = capfd.readouterr().out
    assert json.loads(out) == {"text": "детская комната", "language": "ru", "topics": ["kids"]}


def test_the_cli_refuses_a_bad_topics_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "mode = 3\n")
    assert main(["topics", "classify", "--topics-file", str(path)]) == 2
    assert "mode must be" in capfd.readouterr().err
    monkeypatch.setenv("TOPICS_FILE", str(tmp_path / "absent.toml"))
    assert main(["topics", "classify"]) == 2
    assert "TOPICS_FILE: no such file" in capfd.readouterr().err
