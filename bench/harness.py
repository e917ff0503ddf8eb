"""What every benchmark run sets up before measuring: the data set, the subjects, the web
client's registered operations, pinql served by uvicorn with N workers, and the meters."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench.counters import COUNTERS_ENV
from bench.dataset import (
    DATABASE_URL,
    REDIS_URL,
    Subjects,
    ensure_dataset,
    pick_subjects,
    table_counts,
)
from bench.meters import Meter
from bench.operations import Operation, operations, register_operations
from bench.processes import Server, serving
from server.auth import issue_token

APP = "bench.app:create"
TOKEN_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Harness:
    """A served pinql ready to be measured, and what it serves."""

    server: Server
    meter: Meter
    operations: dict[str, Operation]
    subjects: Subjects
    token: str
    """The viewer's bearer token."""
    table_counts: dict[str, int]
    postgres_version: str
    workers: int
    directory: Path
    """A temporary directory for scripts and the server's log."""
    environment: dict[str, str]
    """The server's settings (the secret left out)."""

    @property
    def server_log(self) -> Path:
        """Where the server's output goes."""
        return self.directory / "server.log"


@contextmanager
def harness(
    workers: int,
    keys: list[str],
    server_env: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    graceful_timeout: int | None = None,
) -> Iterator[Harness]:
    """Seeds if needed, picks the subjects, registers operations/ for the web client in
    Redis, serves pinql (with the floor routes) with `workers` processes until the block
    ends; `server_env` adds to (or overrides) the server's settings. `database_url`: a
    migrated database with data to serve instead of the benchmark's (not seeded here);
    `graceful_timeout`: uvicorn's --timeout-graceful-shutdown."""
    if database_url is None:
        database_url = DATABASE_URL
        counts = ensure_dataset()
    else:
        found = asyncio.run(table_counts(database_url))
        if found is None:
            raise SystemExit(f"{database_url} has no pinql schema: migrate and seed it first")
        counts = found
    database = urlsplit(database_url).path.lstrip("/")
    subjects = asyncio.run(pick_subjects(database_url))
    every = operations(subjects)
    unknown = set(keys) - set(every)
    if unknown:
        raise SystemExit(f"--operations: unknown {sorted(unknown)}; known: {sorted(every)}")
    registered = register_operations(REDIS_URL)
    print(f"registered {registered} documents of operations/ for client web in {REDIS_URL}")
    secret = secrets.token_hex(20)
    token = issue_token(subjects.viewer, secret, TOKEN_TTL_SECONDS)
    with tempfile.TemporaryDirectory(prefix="pinql-bench-") as tmp:
        directory = Path(tmp)
        counters = directory / "counters"
        counters.mkdir()
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            # One client from one address: a rate limit would measure the limiter.
            "PINQL_RATE_LIMIT": "false",
            "PINQL_GC_TUNING": "true",
            **(server_env or {}),
        }
        env = {**settings, "PINQL_SECRET": secret, COUNTERS_ENV: str(counters)}
        with asyncio.Runner() as runner:
            conn: asyncpg.Connection = runner.run(asyncpg.connect(database_url))
            try:
                version = str(runner.run(conn.fetchval("show server_version")))
                meter = Meter(counters, database, runner, conn)
                with serving(
                    APP,
                    env,
                    directory / "server.log",
                    workers=workers,
                    ready=lambda: len(meter.workers()) >= workers,
                    graceful_timeout=graceful_timeout,
                ) as server:
                    yield Harness(
                        server=server,
                        meter=meter,
                        operations={k: every[k] for k in keys},
                        subjects=subjects,
                        token=token,
                        table_counts=counts,
                        postgres_version=version,
                        workers=workers,
                        directory=directory,
                        environment=settings,
                    )
            finally:
                runner.run(conn.close())


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15-minute load averages."""
    return os.getloadavg()
