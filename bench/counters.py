"""Per-worker request and SQL statement counters, in small files the harness reads directly.

Each server worker maps a 16-byte file named by its pid into memory and bumps two int64s:
HTTP requests answered and SQL statements its pool connections sent (asyncpg's query
logger). The harness sums the files before and after a run: no request is needed to read
them (one sent to `/bench/stats` would reach one random worker among N), a worker's
numbers stay readable after it stopped, and the files also tell the harness which pids
are the workers (for their CPU time and RSS).
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from starlette.types import ASGIApp, Receive, Scope, Send

COUNTERS_ENV = "PINQL_BENCH_COUNTERS"
"""The directory the workers keep their counter files in (set by the harness)."""
SUFFIX = ".counters"
_LAYOUT = struct.Struct("<qq")  # requests, statements
_INT64 = struct.Struct("<q")
_REQUESTS, _STATEMENTS = 0, 8


@dataclass(frozen=True, slots=True)
class Counts:
    """What one worker, or all of them, counted so far."""

    requests: int = 0
    statements: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.requests + other.requests, self.statements + other.statements)

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.requests - other.requests, self.statements - other.statements)


class WorkerCounters:
    """This process's counters, in `<directory>/<pid>.counters`."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"{os.getpid()}{SUFFIX}"
        partial = self.path.with_suffix(".partial")
        fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, _LAYOUT.size)
            self._map = mmap.mmap(fd, _LAYOUT.size)
        finally:
            os.close(fd)
        partial.rename(self.path)  # readers never see a file shorter than the layout
        self.requests = 0
        self.statements = 0

    def count_statement(self, _record: object) -> None:
        """asyncpg query logger: one more statement sent."""
        self.statements += 1
        _INT64.pack_into(self._map, _STATEMENTS, self.statements)

    def count_request(self) -> None:
        """One more HTTP request answered."""
        self.requests += 1
        _INT64.pack_into(self._map, _REQUESTS, self.requests)

    async def attach(self, conn: asyncpg.Connection) -> None:
        """Pool `init` hook: count this connection's statements."""
        conn.add_query_logger(self.count_statement)

    def counting(self, app: ASGIApp) -> ASGIApp:
        """`app`, counting each HTTP request once it has been answered."""

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            if scope["type"] == "http":
                self.count_request()

        return counted


def read_counters(directory: Path) -> dict[int, Counts]:
    """Every worker's counts so far, by pid."""
    found = {}
    for path in directory.glob(f"*{SUFFIX}"):
        requests, statements = _LAYOUT.unpack(path.read_bytes()[: _LAYOUT.size])
        found[int(path.stem)] = Counts(requests, statements)
    return found


def total(counts: dict[int, Counts]) -> Counts:
    """The sum over workers."""
    return sum(counts.values(), Counts())
