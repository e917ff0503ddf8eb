"""How a seeding goes, told as it goes: db/seed.py tells a `SeedProgress` each table's start,
its rows as they are sent, and its end (server/cli/progress.py shows it to people)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

R = TypeVar("R")


class SeedProgress(Protocol):
    """Hears how a seeding goes, table by table (server/cli/progress.py shows it)."""

    def start(self, table: str, rows: int) -> None:
        """`table` begins; it will get `rows` rows."""

    def advance(self, table: str, rows: int) -> None:
        """`rows` more rows of `table` were sent."""

    def done(self, table: str) -> None:
        """Every row of `table` was sent."""


PROGRESS_EVERY = 5_000
"""Rows between two `advance` calls."""


def counted(rows: Iterable[R], table: str, progress: SeedProgress) -> Iterator[R]:
    """`rows`, telling `progress` every PROGRESS_EVERY rows and at the end."""
    sent = 0
    for row in rows:
        yield row
        sent += 1
        if sent == PROGRESS_EVERY:
            progress.advance(table, sent)
            sent = 0
    if sent:
        progress.advance(table, sent)


class _Silent:
    """A SeedProgress that tells nobody."""

    def start(self, table: str, rows: int) -> None:
        pass

    def advance(self, table: str, rows: int) -> None:
        pass

    def done(self, table: str) -> None:
        pass


SILENT: SeedProgress = _Silent()
