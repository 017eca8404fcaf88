"""The layout keeps its promises: dependencies point one way, and ARCHITECTURE.md names
only what exists and every package there is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURES = (
    "admin",
    "anniversaries",
    "cases",
    "chats",
    "customers",
    "dashboard",
    "reports",
    "survey",
    "visits",
)
TOP = ("bot.app", "bot.wiring", "bot.maintenance", "bot.cli")


def _imports(folder: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module path -> every `bot.*` / `storage.*` module it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.relative_to(root).as_posix()] = {
            name for name in names if name.split(".")[0] in ("bot", "storage")
        }
    return found


def _violations(folder: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in _imports(folder, root).items()
        for name in sorted(names)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


def test_storage_knows_nothing_of_the_bot() -> None:
    assert _violations("storage", ("bot",)) == []


def test_the_database_facade_knows_no_repository() -> None:
    repositories = tuple(
        f"storage.{path.stem}"
        for path in (ROOT / "storage").glob("*.py")
        if path.stem != "__init__"
    )
    assert _violations("storage/db", repositories) == []


def test_shared_layers_know_no_feature() -> None:
    features = tuple(f"bot.{name}" for name in FEATURES) + TOP
    for folder in ("bot/core", "bot/outbox", "bot/telegram", "bot/webhooks"):
        assert _violations(folder, features) == [], folder


def test_features_do_not_reach_back_into_the_wiring() -> None:
    for name in FEATURES:
        assert _violations(f"bot/{name}", TOP) == [], name


def test_the_survey_knows_nothing_of_cases() -> None:
    """Cases plug into the survey through its keyword-only detractor hook."""
    assert _violations("bot/survey", ("bot.cases",)) == []


def test_a_violation_is_seen(tmp_path: Path) -> None:
    """The checks above can fail: an import of a forbidden module is reported."""
    (tmp_path / "storage" / "db").mkdir(parents=True)
    probe = tmp_path / "storage" / "db" / "probe.py"
    probe.write_text("from storage.outbox import enqueue\nimport bot.app\n", encoding="utf-8")
    assert _violations("storage", ("storage.outbox", "bot"), tmp_path) == [
        "storage/db/probe.py imports bot.app",
        "storage/db/probe.py imports storage.outbox",
        "storage/db/probe.py imports storage.outbox.enqueue",
    ]


def test_architecture_md_is_true_to_the_tree() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:bot|storage|tests|bench)/[\w./{},]*)`", text))
    missing = []
    for path in named:
        if "{" in path:
            continue  # a pattern such as bot/locales/{en,ru,uk}
        target = path.rstrip("/").removesuffix("/*")
        if not (ROOT / target).exists():
            missing.append(path)
    assert missing == []
    packages = {
        p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "bot").glob("*/__init__.py")
    } - {"bot/locales"}
    unnamed = sorted(p for p in packages if f"`{p}/`" not in text)
    assert unnamed == []
    top_modules = sorted(
        p.name for p in (ROOT / "bot").glob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(top_modules) <= 6, top_modules
