"""What every benchmark run sets up before measuring: the data set, the subjects, the web
client's registered operations, pinql served by uvicorn with N workers, and the meters; with
a baseline, REF's code served the same way beside it (its own port, counters, Redis db); with
the peer, PostGraphile served against the same database (bench/postgraphile/)."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench.baseline import Checkout, checkout, resolve, verify_imports
from bench.counters import COUNTERS_ENV
from bench.dataset import (
    BASELINE_REDIS_URL,
    REDIS_URL,
    SCALE,
    SERVER_URL,
    Subjects,
    dataset_database,
    ensure_dataset,
    pick_subjects,
    table_counts,
)
from bench.meters import Meter
from bench.operations import (
    BASELINE,
    PEER,
    ROWS,
    Operation,
    operations,
    register_client,
    register_operations,
    row_keys,
    sent_as,
)
from bench.postgraphile.install import ensure_installed
from bench.postgraphile.peer import Peer, peer_served, pool_size
from bench.processes import ROOT, Server, serving
from bench.wrk import WrkRequest
from server.auth import issue_token

APP = "bench.app:create"
TOKEN_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Baseline:
    """REF's code served beside the current code: its checkout, its server and meter."""

    checkout: Checkout
    server: Server
    meter: Meter
    log: Path
    imported: dict[str, str]
    """Where its python imported each top-level package from (all in the checkout)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One row of an operation: what wrk sends, to which server, metered by which meter."""

    key: str
    """A key of ROWS."""
    request: WrkRequest
    base: str
    meter: Meter


@dataclass(frozen=True, slots=True)
class Harness:
    """A served pinql ready to be measured, and what it serves."""

    server: Server
    meter: Meter
    operations: dict[str, Operation]
    subjects: Subjects
    token: str
    """The viewer's bearer token."""
    key: str
    """The web client's key."""
    table_counts: dict[str, int]
    database: str
    """The database served (its name)."""
    postgres_version: str
    workers: int
    directory: Path
    """A temporary directory for scripts and the server's log."""
    environment: dict[str, str]
    """The server's settings (the secret left out)."""
    baseline: Baseline | None = None
    peer: Peer | None = None

    @property
    def server_log(self) -> Path:
        """Where the server's output goes."""
        return self.directory / "server.log"

    def rows(self, operation: Operation) -> list[Row]:
        """The operation's rows in the order they take turns: full text and hash only to
        this commit's server, the same to the baseline's (if served), the peer's query to
        PostGraphile (if served), the floor."""
        sent = operation.requests(self.token, self.key)
        rows = []
        for key in row_keys(self.baseline is not None, self.peer is not None):
            if key == PEER:
                assert self.peer is not None
                peer = self.peer
                if operation.key in peer.requests:  # (no peer query: no peer row)
                    request = peer.requests[operation.key]
                    rows.append(Row(key, request, peer.server.base, peer.meter))
                continue
            request = sent[sent_as(key)]
            if key.startswith(BASELINE):
                assert self.baseline is not None
                named = replace(request, name=f"{operation.key} {ROWS[key]}")
                rows.append(Row(key, named, self.baseline.server.base, self.baseline.meter))
            else:
                rows.append(Row(key, request, self.server.base, self.meter))
        return rows


@contextmanager
def harness(
    workers: int,
    keys: list[str],
    server_env: dict[str, str] | None = None,
    baseline: str | None = None,
    *,
    database_url: str | None = None,
    scale: float = SCALE,
    graceful_timeout: int | None = None,
    peer: bool = False,
) -> Iterator[Harness]:
    """Seeds if needed, picks the subjects, registers operations/ for the web client in
    Redis, serves pinql (with the floor routes) with `workers` processes until the block
    ends; `server_env` adds to (or overrides) the server's settings. With `baseline` (a
    commit-ish), also serves that commit's code, checked out, started the same way on
    another port, against the same database and another Redis database. `database_url`: a
    migrated database with data to serve instead of the benchmark's data set of `scale`
    (seeded if absent; not seeded here);
    `graceful_timeout`: uvicorn's --timeout-graceful-shutdown. With `peer`, also serves
    PostGraphile (installed first if needed) with as many processes, each with pinql's pool
    size, against the same database."""
    if baseline:
        resolve(baseline)  # a REF that names no commit fails before anything is set up
    node = ensure_installed() if peer else None  # (no Node.js: fails before anything too)
    if database_url is None:
        name = dataset_database(scale)
        database_url = f"{SERVER_URL}/{name}"
        counts = ensure_dataset(name, scale)
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
    for url in [REDIS_URL] + ([BASELINE_REDIS_URL] if baseline else []):
        registered = register_operations(url)
        print(f"registered {registered} documents of operations/ for client web in {url}")
    key = register_client(database_url)  # (a baseline without client keys ignores it)
    secret = secrets.token_hex(20)
    token = issue_token(subjects.viewer, secret, TOKEN_TTL_SECONDS)
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinql-bench-")))
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            # One client from one address: a rate limit would measure the limiter.
            "PINQL_RATE_LIMIT": "false",
            "PINQL_GC_TUNING": "true",
            **(server_env or {}),
        }
        runner = stack.enter_context(asyncio.Runner())
        conn: asyncpg.Connection = runner.run(asyncpg.connect(database_url))
        stack.callback(lambda: runner.run(conn.close()))
        version = str(runner.run(conn.fetchval("show server_version")))

        def serve(name: str, env: dict[str, str], cwd: Path = ROOT) -> tuple[Server, Meter]:
            counters = directory / f"{name}-counters"
            counters.mkdir()
            meter = Meter(counters, database, runner, conn)
            env = {**env, "PINQL_SECRET": secret, COUNTERS_ENV: str(counters)}
            server = stack.enter_context(
                serving(
                    APP,
                    env,
                    directory / f"{name}.log",
                    workers=workers,
                    ready=lambda: len(meter.workers()) >= workers,
                    cwd=cwd,
                    graceful_timeout=graceful_timeout,
                )
            )
            return server, meter

        server, meter = serve("server", settings)
        served_baseline = None
        if baseline:
            tree = stack.enter_context(checkout(baseline))
            env = {**settings, "REDIS_URL": BASELINE_REDIS_URL, **tree.environment}
            imported = verify_imports(tree, env)
            baseline_server, baseline_meter = serve("baseline", env, tree.path)
            served_baseline = Baseline(
                tree, baseline_server, baseline_meter, directory / "baseline.log", imported
            )
        served_peer = None
        if node is not None:
            served_peer = stack.enter_context(
                peer_served(
                    node,
                    database_url,
                    database,
                    operations={k: every[k] for k in keys},
                    viewer=subjects.viewer,
                    workers=workers,
                    pool=pool_size(settings),
                    directory=directory,
                    runner=runner,
                    conn=conn,
                )
            )
        yield Harness(
            server=server,
            meter=meter,
            operations={k: every[k] for k in keys},
            subjects=subjects,
            token=token,
            key=key,
            table_counts=counts,
            database=database,
            postgres_version=version,
            workers=workers,
            directory=directory,
            environment=settings,
            baseline=served_baseline,
            peer=served_peer,
        )


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15-minute load averages."""
    return os.getloadavg()
