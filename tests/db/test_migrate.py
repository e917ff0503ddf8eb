"""Migrations: applied in order, recorded, idempotent, safe to run from several replicas at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from db.migrate import load_migrations, migrate, pending
from tests.conftest import MakeDatabase

TABLES = {
    "users",
    "user_counts",
    "boards",
    "board_counts",
    "clients",
    "pins",
    "feed_items",
    "pin_terms",
    "board_terms",
    "pin_counts",
    "pin_totals",
    "comments",
    "follows",
    "write_keys",
    "registered_documents",
    "registered_versions",
    "schema_migrations",
}


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
    return {r["tablename"] for r in rows}


async def test_migrate_applies_every_migration_once_then_does_nothing(
    make_database: MakeDatabase,
) -> None:
    conn = await asyncpg.connect(await make_database())
    try:
        versions = [m.version for m in load_migrations()]
        assert await migrate(conn) == versions
        assert await _tables(conn) == TABLES
        recorded = [r["version"] for r in await conn.fetch("select version from schema_migrations")]
        assert recorded == versions
        assert await pending(conn) == []
        assert await migrate(conn) == []  # up to date: nothing applied, nothing fails
    finally:
        await conn.close()


async def test_concurrent_migrate_runs_apply_each_migration_exactly_once(
    make_database: MakeDatabase,
) -> None:
    url = await make_database()
    conns = [await asyncpg.connect(url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [v for result in results for v in result]
        assert sorted(applied) == [m.version for m in load_migrations()]
    finally:
        for c in conns:
            await c.close()


def test_migration_files_are_numbered_with_an_up_section(tmp_path: Path) -> None:
    (tmp_path / "1_bad_name.sql").write_text("-- migrate:up\nselect 1;")
    with pytest.raises(ValueError, match=r"must look like 0001_name\.sql, got 1_bad_name\.sql"):
        load_migrations(tmp_path)
    (tmp_path / "1_bad_name.sql").unlink()
    (tmp_path / "0001_no_up.sql").write_text("select 1;")
    with pytest.raises(ValueError, match=r"0001_no_up\.sql has no '-- migrate:up' section"):
        load_migrations(tmp_path)


def test_up_section_stops_at_down_section(tmp_path: Path) -> None:
    (tmp_path / "0001_t.sql").write_text(
        "-- migrate:up\ncreate table t ();\n-- migrate:down\ndrop table t;\n"
    )
    [migration] = load_migrations(tmp_path)
    assert "create table t" in migration.up
    assert "drop table" not in migration.up


async def test_a_failing_migration_leaves_nothing_half_applied(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    (tmp_path / "0001_ok.sql").write_text("-- migrate:up\ncreate table ok_table (id int);\n")
    (tmp_path / "0002_broken.sql").write_text(
        "-- migrate:up\ncreate table half_table (id int);\nselect * from no_such_table;\n"
    )
    conn = await asyncpg.connect(await make_database())
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, tmp_path)
        assert await _tables(conn) == {"ok_table", "schema_migrations"}
        assert [m.version for m in await pending(conn, tmp_path)] == ["0002_broken"]
    finally:
        await conn.close()
