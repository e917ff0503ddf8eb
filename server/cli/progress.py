"""A seeding's progress for people (db/seed_progress.py): on a terminal, a bar per table with
its rows and rate (rich, which typer brings); elsewhere (a log, a pipe), plain lines: one
every PLAIN_EVERY seconds while a table loads, and one when it is done."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from db.seed_progress import SeedProgress

PLAIN_EVERY = 10.0
"""Seconds between two plain lines about one table."""


class PlainProgress:
    """Lines of text: `pins: 250,000 of 1,000,000 rows (24,100 rows/s)` now and then, and
    `pins: 1,000,000 rows in 41.5 s (24,100 rows/s)` at the end."""

    def __init__(self, write: Callable[[str], object], every: float = PLAIN_EVERY) -> None:
        self.write = write
        self.every = every
        self._rows: dict[str, tuple[int, int]] = {}  # table: (sent, total)
        self._started: dict[str, float] = {}
        self._said = 0.0

    def start(self, table: str, rows: int) -> None:
        self._rows[table] = (0, rows)
        self._started[table] = self._said = time.monotonic()

    def advance(self, table: str, rows: int) -> None:
        sent, total = self._rows[table]
        self._rows[table] = (sent + rows, total)
        now = time.monotonic()
        if now - self._said >= self.every:
            self._said = now
            self.write(
                f"{table}: {sent + rows:,} of {total:,} rows ({self._rate(table):,.0f} rows/s)"
            )

    def done(self, table: str) -> None:
        sent, _ = self._rows[table]
        seconds = time.monotonic() - self._started[table]
        self.write(f"{table}: {sent:,} rows in {seconds:.1f} s ({self._rate(table):,.0f} rows/s)")

    def _rate(self, table: str) -> float:
        seconds = max(time.monotonic() - self._started[table], 1e-9)
        return self._rows[table][0] / seconds


class RowsPerSecond(ProgressColumn):
    """A task's rate, in rows a second (blank until rich has measured one)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s")


class TerminalProgress:
    """rich's bars, one per table: its name, the bar, rows sent of all, rows a second, time."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, table: str, rows: int) -> None:
        self._tasks[table] = self.progress.add_task(table, total=rows)

    def advance(self, table: str, rows: int) -> None:
        self.progress.advance(self._tasks[table], rows)

    def done(self, table: str) -> None:
        task = self._tasks[table]
        self.progress.update(task, completed=self.progress.tasks[task].total)


@contextmanager
def seed_progress(console: Console | None = None) -> Iterator[SeedProgress]:
    """The progress to show on `console` (standard output's): bars on a terminal, else
    lines."""
    console = console if console is not None else Console()
    if not console.is_terminal:
        out = console.file
        yield PlainProgress(lambda line: print(line, file=out, flush=True))
        return
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        yield TerminalProgress(progress)
