"""Applies the numbered SQL migrations under db/migrations, in order, once each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_UP = "-- migrate:up"
_DOWN = "-- migrate:down"
# Any constant shared by every replica: serializes concurrent `migrate` runs.
_LOCK_KEY = 0x70696E71  # "pinq"

# Creates the bookkeeping table: one row per applied migration.
CREATE_TABLE = """
create table if not exists schema_migrations (
    version    text primary key,
    applied_at timestamptz not null default now()
)
"""
# Returns the versions already applied.
APPLIED = "select version from schema_migrations"
# Records one applied version.
RECORD = "insert into schema_migrations (version) values ($1)"


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its version (the file name without .sql) and its up SQL."""

    version: str
    up: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Reads every migration file in version order; refuses misnamed or malformed files."""
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        if not _NAME.match(path.name):
            raise ValueError(f"migration file name must look like 0001_name.sql, got {path.name}")
        text = path.read_text()
        if _UP not in text:
            raise ValueError(f"migration {path.name} has no '{_UP}' section")
        up = text.split(_UP, 1)[1].split(_DOWN, 1)[0]
        migrations.append(Migration(version=path.stem, up=up))
    return migrations


async def pending(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations (files in `directory`) not yet applied to this database."""
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    applied = {r["version"] for r in await conn.fetch(APPLIED)} if exists else set()
    return [m for m in load_migrations(directory) if m.version not in applied]


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Applies pending migrations, each in its own transaction; returns the versions applied."""
    applied: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE)
        for migration in await pending(conn, directory):
            async with conn.transaction():
                await conn.execute(migration.up)
                await conn.execute(RECORD, migration.version)
            applied.append(migration.version)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_KEY)
    return applied
