"""The `pinql` command: every subcommand's behaviour, exit codes and messages."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from schema.build import print_schema
from server.cli import app
from tests.conftest import MakeDatabase
from tests.support import SECRET

runner = CliRunner()


@pytest.fixture
async def fresh_database(make_database: MakeDatabase) -> str:
    return await make_database()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("PINQL_SECRET", SECRET)
    monkeypatch.delenv("PINQL_ENV", raising=False)
    return monkeypatch


@pytest.fixture
def no_registrations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`schema check` also validates registered operations: give it an empty file store, so
    these tests do not depend on what the suite's Redis holds."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PINQL_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["migrate"], ["seed"], ["token"], ["schema"], ["schema", "export"],
     ["schema", "check"]],
)  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], prog_name="pinql")
    assert result.exit_code == 0, result.output
    assert "Usage: pinql" in result.output


def test_schema_export_writes_the_printed_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = runner.invoke(app, ["schema", "export", "--path", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == print_schema()


@pytest.mark.usefixtures("no_registrations")
def test_schema_check_passes_on_the_committed_file() -> None:
    result = runner.invoke(app, ["schema", "check"])
    assert result.exit_code == 0, result.output
    assert "schema.graphql is up to date" in result.output


@pytest.mark.usefixtures("no_registrations")
def test_schema_check_fails_with_a_readable_diff(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text(print_schema().replace("  viewerIsFollowing: Boolean!\n", ""))
    result = runner.invoke(app, ["schema", "check", "--path", str(stale)])
    assert result.exit_code == 1
    assert "+  viewerIsFollowing: Boolean!" in result.output
    assert "is out of date: run `pinql schema export`" in result.output


def test_migrate_applies_then_reports_up_to_date(
    env: pytest.MonkeyPatch, fresh_database: str
) -> None:
    env.setenv("DATABASE_URL", fresh_database)
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "applied: 0001_initial" in first.output
    again = runner.invoke(app, ["migrate"])
    assert again.exit_code == 0, again.output
    assert "database is up to date" in again.output


def test_seed_loads_an_empty_database_and_refuses_a_full_one(
    env: pytest.MonkeyPatch, fresh_database: str
) -> None:
    env.setenv("DATABASE_URL", fresh_database)
    result = runner.invoke(app, ["seed", "--scale", "0.005", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "loaded SeedCounts(users=" in result.output
    refused = runner.invoke(app, ["seed", "--scale", "0.005"])
    assert refused.exit_code == 1
    assert "already has data" in refused.output
    assert "--reset" in refused.output
    reset = runner.invoke(app, ["seed", "--scale", "0.005", "--reset"])
    assert reset.exit_code == 0, reset.output


@pytest.mark.parametrize("scale", ["0", "-1", "1000", "lots"])
def test_seed_refuses_a_bad_scale(scale: str) -> None:
    result = runner.invoke(app, ["seed", "--scale", scale])
    assert result.exit_code == 2
    assert "--scale" in result.output


def test_token_names_the_user(env: pytest.MonkeyPatch, world_database: str) -> None:
    env.setenv("DATABASE_URL", world_database)
    result = runner.invoke(app, ["token", "olive", "--ttl", "120"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "1"
    assert claims["exp"] - claims["iat"] == 120


def test_token_for_an_unknown_user_fails(env: pytest.MonkeyPatch, world_database: str) -> None:
    env.setenv("DATABASE_URL", world_database)
    result = runner.invoke(app, ["token", "nobody"])
    assert result.exit_code == 1
    assert "no user named 'nobody'" in result.output


def test_bad_configuration_is_reported_not_raised(env: pytest.MonkeyPatch) -> None:
    env.setenv("PINQL_ENV", "prod")
    env.setenv("PINQL_SECRET", "short")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "PINQL_SECRET must be set to a random string of 32+ characters in prod" in result.output
    env.setenv("PINQL_ENV", "staging")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "PINQL_ENV" in result.output
