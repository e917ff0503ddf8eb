"""A seeding's progress: db/seed.py tells each table's start, rows and end (all its rows,
in load order), and server/cli/progress.py shows it as bars on a terminal and as lines
elsewhere; `pinql seed` with its output in a pipe prints the lines."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import asyncpg
from rich.console import Console

from db.migrate import migrate
from db.seed import seed
from db.seed_rows import TABLES
from server.cli.progress import PlainProgress, seed_progress
from tests.conftest import MakeDatabase


class Recorded:
    """A SeedProgress that keeps what it heard."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str, int]] = []

    def start(self, table: str, rows: int) -> None:
        self.heard.append(("start", table, rows))

    def advance(self, table: str, rows: int) -> None:
        self.heard.append(("advance", table, rows))

    def done(self, table: str) -> None:
        self.heard.append(("done", table, 0))


async def test_seeding_tells_each_table_and_all_its_rows(make_database: MakeDatabase) -> None:
    conn = await asyncpg.connect(await make_database())
    try:
        await migrate(conn)
        recorded = Recorded()
        counts = await seed(conn, scale=0.1, progress=recorded)
        for table in TABLES:
            events = [(kind, rows) for kind, name, rows in recorded.heard if name == table]
            assert events[0] == ("start", getattr(counts, table))
            assert events[-1] == ("done", 0)
            sent = [rows for kind, rows in events if kind == "advance"]
            assert (
                sum(sent)
                == getattr(counts, table)
                == await conn.fetchval(f"select count(*) from {table}")
            )
        # then the derived rows: the counters, the home feeds and the search postings, whole
        assert [name for kind, name, _ in recorded.heard if kind == "start"] == [
            *TABLES,
            "counters",
            "feed_items",
            "search_terms",
        ]
        feeds = [(kind, rows) for kind, name, rows in recorded.heard if name == "feed_items"]
        written = await conn.fetchval("select count(*) from feed_items")
        assert feeds == [("start", written), ("advance", written), ("done", 0)]
        terms = [(kind, rows) for kind, name, rows in recorded.heard if name == "search_terms"]
        postings = await conn.fetchval(
            "select (select count(*) from pin_terms) + (select count(*) from board_terms)"
        )
        assert postings > 0
        assert terms == [("start", postings), ("advance", postings), ("done", 0)]
    finally:
        await conn.close()


def test_plain_lines_now_and_then_and_at_the_end() -> None:
    lines: list[str] = []
    plain = PlainProgress(lines.append, every=0.0)  # a line at every advance
    plain.start("pins", 12_000)
    plain.advance("pins", 5_000)
    plain.advance("pins", 7_000)
    plain.done("pins")
    assert lines[0].startswith("pins: 5,000 of 12,000 rows (")
    assert lines[1].startswith("pins: 12,000 of 12,000 rows (")
    assert lines[2].startswith("pins: 12,000 rows in ") and lines[2].endswith(" rows/s)")
    quiet: list[str] = []
    slow = PlainProgress(quiet.append, every=3600.0)
    slow.start("users", 10)
    slow.advance("users", 10)
    slow.done("users")
    assert len(quiet) == 1  # only the end


def test_a_terminal_gets_a_bar_per_table() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with seed_progress(console) as progress:
        progress.start("users", 100)
        progress.advance("users", 100)
        progress.done("users")
        progress.start("pins", 1_000)
        progress.advance("pins", 400)
    text = out.getvalue()
    assert "users" in text and "100/100" in text
    assert "pins" in text and "400/1000" in text
    assert "━" in text  # rich's bar


async def test_pinql_seed_prints_lines_into_a_pipe(make_database: MakeDatabase) -> None:
    env = {**os.environ, "DATABASE_URL": await make_database()}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "seed", "--scale", "0.01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for table in TABLES:
        assert f"\n{table}: " in "\n" + done.stdout, done.stdout
    assert "loaded SeedCounts" in done.stdout
