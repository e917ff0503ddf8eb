"""`pinql clients add|list|set|rotate|remove` against a fresh migrated PostgreSQL database:
what they print (the key once, on stdout alone), what they store (its hash, never the key),
and their refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from db import clients as registry
from server.cli import app
from server.client_keys import KEY, key_hash
from tests.conftest import MakeDatabase, new_database

runner = CliRunner()


@pytest.fixture
async def database(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """A fresh migrated database, as DATABASE_URL."""
    url = await new_database(make_database, with_world=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("PINQL_ENV", raising=False)
    monkeypatch.setenv("PINQL_DATA_DIR", str(tmp_path))
    return url


def rows(url: str) -> list[registry.ClientRow]:
    async def read() -> list[registry.ClientRow]:
        conn = await asyncpg.connect(url)
        try:
            return await registry.clients(conn)
        finally:
            await conn.close()

    return asyncio.run(read())


def pinql(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_add_prints_the_key_once_and_stores_its_hash(database: str) -> None:
    code, out, err = pinql("clients", "add", "web", "--policy", "safelist")
    assert code == 0, err
    key = out.strip()
    assert KEY.fullmatch(key)  # stdout is the key alone: KEY=$(pinql clients add ...)
    assert "added client web (policy safelist); its key, shown once:" in err
    [row] = rows(database)
    assert (row.name, row.key_hash) == ("web", key_hash(key))
    assert key not in row.policy and row.previous_key_hash is None
    code, _, err = pinql("clients", "add", "web", "--policy", "open")
    assert code == 1
    assert "client 'web' exists: `pinql clients rotate web` gives it a new key" in err


def test_list_set_rotate_remove(database: str) -> None:
    assert pinql("clients", "list")[1].startswith("no clients are registered")
    _, web_key, _ = pinql("clients", "add", "web", "--policy", "open", "--log-unknown")
    pinql("clients", "add", "ios", "--policy", "apq")
    code, out, _ = pinql("clients", "list")
    assert code == 0
    ios, web = out.splitlines()
    assert ios.startswith("ios  policy apq ")
    assert web.startswith("web  policy open (logs unknown operations)")
    assert web_key.strip() not in out

    code, out, _ = pinql("clients", "set", "web", "--policy", "open", "--no-apq")
    assert (code, out.strip()) == (0, "client web: policy open (no APQ)")

    code, new_key, err = pinql("clients", "rotate", "web", "--grace-hours", "2")
    assert code == 0 and KEY.fullmatch(new_key.strip())
    assert "the previous one works for 2 more hours" in err
    row = next(r for r in rows(database) if r.name == "web")
    assert row.key_hash == key_hash(new_key.strip())
    assert row.previous_key_hash == key_hash(web_key.strip())
    assert "previous key valid until" in pinql("clients", "list")[1]

    assert pinql("clients", "remove", "web")[:2] == (0, "removed client web\n")
    assert [r.name for r in rows(database)] == ["ios"]
    for command in (("remove", "web"), ("rotate", "web"), ("set", "web", "--policy", "open")):
        code, _, err = pinql("clients", *command)
        assert (code, err.strip()) == (1, "no client named 'web'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "Web", "--policy", "open"), "client name must match [a-z0-9._-]{1,32}"),
        (("add", "anonymous", "--policy", "open"), "its policy is PINQL_ANONYMOUS_POLICY"),
        (("add", "web", "--policy", "closed"), "'closed' is not one of"),
        (("add", "web", "--policy", "apq", "--no-apq"), "mode 'apq' needs apq: true"),
        (("add", "web"), "Missing option '--policy'"),
        (
            ("rotate", "web", "--grace-hours", "-1"),
            "--grace-hours': Input should be greater than or",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_rule(
    database: str, args: tuple[str, ...], message: str
) -> None:
    code, _, err = pinql("clients", *args)
    assert code == 2
    assert message in " ".join(err.replace("│", " ").split())
    assert rows(database) == []


async def test_an_unmigrated_database_says_to_migrate(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", await make_database())
    code, _, err = await asyncio.to_thread(pinql, "clients", "list")
    assert code == 1
    assert 'relation "clients" does not exist): run `pinql migrate` first' in err
