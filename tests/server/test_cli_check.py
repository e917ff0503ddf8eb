"""`pinql check counters [--repair]` against a fresh PostgreSQL database holding the hand-made
world: a clean database passes, a drifted counter is named with its stored and true values
(exit 1), and --repair rewrites it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from server.cli import app
from tests.conftest import MakeDatabase, new_database
from tests.world import OLIVE

runner = CliRunner()


@pytest.fixture
async def database(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """A fresh database holding the world, as DATABASE_URL."""
    url = await new_database(make_database, with_world=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PINQL_DATA_DIR", str(tmp_path))
    return url


async def check(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(runner.invoke, app, ["check", "counters", *args])
    return result.exit_code, result.stdout, result.stderr


async def test_counters_are_checked_and_repaired(database: str) -> None:
    assert await check() == (0, "every counter matches count(*)\n", "")
    conn = await asyncpg.connect(database)
    try:
        true = await conn.fetchval("select followers from user_counts where user_id = $1", OLIVE)
        await conn.execute("update user_counts set followers = 99 where user_id = $1", OLIVE)
        code, out, err = await check()
        assert code == 1
        assert out == f"user_counts {OLIVE}: followers 99 (true: {true})\n"
        assert "1 counter row(s) differ from count(*)" in err
        code, out, err = await check("--repair")
        assert code == 0, err
        assert out.endswith("repaired 1 drifted counter row(s): user_counts 1\n")
        assert (
            await conn.fetchval("select followers from user_counts where user_id = $1", OLIVE)
            == true
        )
        assert await check() == (0, "every counter matches count(*)\n", "")
    finally:
        await conn.close()


async def test_search_postings_are_checked_and_repaired(database: str) -> None:
    def search(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["check", "search", *args])
        return result.exit_code, result.stdout, result.stderr

    clean = (0, "every search posting matches its vector\n", "")
    assert await asyncio.to_thread(search) == clean
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("insert into pin_terms values ('ghost', 1)")
        await conn.execute("delete from board_terms where board_id = 1")
        code, out, err = await asyncio.to_thread(search)
        assert code == 1
        assert out == "pin_terms: 1 stale, 0 missing\nboard_terms: 0 stale, 2 missing\n"
        assert "`pinql check search --repair`" in err
        code, out, err = await asyncio.to_thread(search, "--repair")
        assert code == 0, err
        assert out.endswith("repaired: 3 posting(s) deleted or written\n")
        assert await asyncio.to_thread(search) == clean
    finally:
        await conn.close()


async def test_an_unmigrated_database_says_to_migrate(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", await make_database())
    code, _, err = await check()
    assert code == 1
    assert "run `pinql migrate` first" in err
