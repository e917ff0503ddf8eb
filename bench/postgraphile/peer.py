"""The peer as the harness serves it beside pinql: its objects created in the benchmark's
database, PostGraphile started with pinql's workers and pool size, its own Meter, and each
benchmarked operation's request."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.meters import Meter
from bench.operations import Operation
from bench.postgraphile.install import version
from bench.postgraphile.requests import has_peer_query, peer_request
from bench.postgraphile.serving import PLUGINS, create_objects, serving_peer
from bench.processes import Server
from bench.wrk import WrkRequest
from server.database_settings import DatabaseSettings

PACKAGES = ("postgraphile", *PLUGINS)
# The viewer's username (the peer's ProfilePage asks for `email` on the viewer's own only).
VIEWER_USERNAME = "select username from users where id = $1"


@dataclass(frozen=True, slots=True)
class Peer:
    """PostGraphile served beside pinql: its server and meter, where it logs, its packages'
    versions, its pool size per process, and each operation's request (by operation key)."""

    server: Server
    meter: Meter
    log: Path
    versions: dict[str, str]
    """By npm package: PostGraphile and its plugins (PACKAGES)."""
    pool_size: int
    requests: dict[str, WrkRequest]
    started_log: int
    """The log's size once PostGraphile was up (its banner before it)."""

    def logged(self) -> str:
        """What PostGraphile logged once it was up (warnings, errors)."""
        with self.log.open("rb") as log:
            log.seek(self.started_log)
            return log.read().decode(errors="replace")


def pool_size(settings: Mapping[str, str]) -> int:
    """The pool size of each of pinql's workers served with `settings` over this process's
    environment (PINQL_DB_POOL_MAX, or its default)."""
    return DatabaseSettings.model_validate({**os.environ, **settings}).db_pool_max


@contextmanager
def peer_served(
    node: str,
    database_url: str,
    database: str,
    *,
    operations: Mapping[str, Operation],
    viewer: int,
    workers: int,
    pool: int,
    directory: Path,
    runner: asyncio.Runner,
    conn: asyncpg.Connection,
) -> Iterator[Peer]:
    """PostGraphile serving `database_url` (`database`, which `conn` is connected to, asked
    through `runner`) with `workers` processes of `pool` connections each, until the block
    ends; its counters and log in `directory`; a request for each of `operations`, as
    `viewer`."""
    runner.run(create_objects(conn))
    username = str(runner.run(conn.fetchval(VIEWER_USERNAME, viewer)))
    counters = directory / "peer-counters"
    counters.mkdir()
    log = directory / "peer.log"
    with serving_peer(
        node, database_url, workers=workers, pool_size=pool, counters=counters, log_path=log
    ) as server:
        yield Peer(
            server=server,
            meter=Meter(counters, database, runner, conn),
            log=log,
            versions={package: version(package) for package in PACKAGES},
            pool_size=pool,
            requests={
                key: peer_request(operation, viewer, username)
                for key, operation in operations.items()
                if has_peer_query(operation)
            },
            started_log=log.stat().st_size,
        )
