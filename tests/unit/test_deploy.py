"""The deployment files say what README says: docker-compose.yml runs PostgreSQL, Redis
and two bot instances behind nginx, and names only settings that exist.

`docker compose` is not needed: the files are parsed and checked as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
BOTS = ("bot1", "bot2")
# Services run from our image (the bots and the one-shot migration): their environment
# is otklik's settings.
OTKLIK_SERVICES = ("migrate", *BOTS)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def interpolated(value: str) -> str:
    """The value with compose's ${NAME...} references filled in, as compose would."""
    return re.sub(r"\$\{[^}]*\}", "value", value)


def test_the_services_are_postgres_redis_a_migration_two_bots_and_a_proxy(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == {"postgres", "redis", "migrate", *BOTS, "nginx"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["nginx"]["image"].startswith("nginx:")
    assert services["migrate"]["command"] == ["otklik", "db", "migrate"]


def test_both_bots_run_one_image_on_postgres_and_redis_as_distinct_instances(
    services: dict[str, dict[str, Any]],
) -> None:
    first, second = (services[name] for name in BOTS)
    assert first["build"] == second["build"] == "."
    assert first["image"] == second["image"]
    envs = [environment(services[name]) for name in BOTS]
    assert envs[0]["INSTANCE_ID"] != envs[1]["INSTANCE_ID"]
    for env in envs:
        database = urlsplit(interpolated(env["DATABASE_URL"]))
        assert (database.scheme, database.hostname, database.path) == (
            "postgresql",
            "postgres",
            "/" + services["postgres"]["environment"]["POSTGRES_DB"],
        )
        redis = urlsplit(interpolated(env["REDIS_URL"]))
        assert (redis.scheme, redis.hostname) == ("redis", "redis")
        assert env["INSTANCE_COUNT"] == str(len(BOTS))
        assert env["WEBHOOK_URL"].startswith("${WEBHOOK_URL:?")  # the operator must set it
        assert env["MIGRATE_ON_START"] == "false"
        assert env["API_HOST"] == "0.0.0.0"
    # Everything but the instance's name is the same on both.
    assert {k: v for k, v in envs[0].items() if k != "INSTANCE_ID"} == {
        k: v for k, v in envs[1].items() if k != "INSTANCE_ID"
    }


def test_every_variable_given_to_otklik_is_a_real_setting(
    services: dict[str, dict[str, Any]],
) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in OTKLIK_SERVICES:
        unknown = set(environment(services[name])) - fields
        assert not unknown, f"{name}: not settings: {sorted(unknown)}"


def test_start_order_waits_for_healthy_dependencies(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("postgres", "redis", *BOTS):
        assert services[name]["healthcheck"]["test"], name
    for name in BOTS:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        port = environment(services[name])["API_PORT"]
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(
            services[name]["healthcheck"]["test"]
        )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {name: dep["condition"] for name, dep in services["nginx"]["depends_on"].items()} == {
        name: "service_healthy" for name in BOTS
    }


def test_nginx_spreads_requests_over_both_bots(services: dict[str, dict[str, Any]]) -> None:
    mounts = [str(volume).split(":") for volume in services["nginx"]["volumes"]]
    config_path = next(host for host, target, *_ in mounts if target.startswith("/etc/nginx"))
    config = (ROOT / config_path).read_text(encoding="utf-8")
    active = "\n".join(line.split("#", 1)[0] for line in config.splitlines())
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", active)
    assert upstream is not None
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream.group(2), re.MULTILINE)
    ports = {environment(services[name])["API_PORT"] for name in BOTS}
    assert sorted(servers) == sorted((name, port) for name in BOTS for port in ports)
    assert f"proxy_pass http://{upstream.group(1)};" in active


def test_the_image_runs_otklik_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip()]
    instructions = [line for line in instructions if not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-1] == 'CMD ["otklik", "run"]'
    assert any(line.startswith("RUN pip install .") for line in instructions)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".git", "tests"} <= set(ignored)


def test_the_bots_environment_is_valid_settings(services: dict[str, dict[str, Any]]) -> None:
    operator = {  # what .env adds (see README)
        "BOT_TOKEN": "123456:TEST-TOKEN",
        "API_TOKEN": "api-token-0123456789",
        "MANAGER_CHAT_ID": "-1001",
    }
    for name in BOTS:
        env = {**operator, **environment(services[name])}
        env["WEBHOOK_URL"] = "https://bot.example.com/telegram/webhook"
        values: dict[str, Any] = {key.lower(): interpolated(value) for key, value in env.items()}
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        assert (settings.instance_id, settings.instance_count) == (name, 2)
        assert settings.webhook_path == "/telegram/webhook"
        assert settings.migrate_on_start is False
