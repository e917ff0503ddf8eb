"""Serves the peer: PostGraphile's command line on a free port against the benchmark's
database, its SQL objects (peer.sql) created first, its node processes (a master and
`--cluster-workers` workers, or one process) counting requests and statements for a Meter
(counters.cjs), stopped when the block ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench.counters import COUNTERS_ENV, read_counters
from bench.postgraphile.install import PACKAGE_DIR
from bench.processes import Server, free_port, running

SCHEMAS = ("public", "postgraphile_peer")
"""pinql's tables, and the peer's own objects (peer.sql)."""
PEER_SQL = PACKAGE_DIR / "peer.sql"
CLI = PACKAGE_DIR / "node_modules" / "postgraphile" / "cli.js"
COUNTING = PACKAGE_DIR / "counters.cjs"
PLUGINS = ("postgraphile-plugin-connection-filter",)
SETTINGS = (
    "--disable-query-log", "--disable-graphiql",
    "--dynamic-json", "--no-setof-functions-contain-nulls", "--no-ignore-rbac",
    "--legacy-relations", "omit",
)  # fmt: skip
"""Production settings: no query log, no GraphiQL, and the options PostGraphile's help marks
[RECOMMENDED] but `--no-ignore-indexes` (it hides filters on columns no index leads with:
the queries filter boards by `privacy`); no watch mode, no JWT (no viewer: the peer
enforces no privacy rules)."""
ENVIRONMENT = {"NODE_ENV": "production"}
NODE_FLAGS = ("--no-deprecation",)
"""pg 8 deprecates how PostGraphile 4 queues a request's statements on its one client (a
warning in every run's log, about the packages, not the run)."""
IDLE_MS = 300_000
"""How long its pool keeps an idle connection: as long as pinql's (asyncpg's default
`max_inactive_connection_lifetime`, 300 s), not pg-pool's 10 s, so that the peer does not
reconnect (and lose its prepared statements) while the other rows take their turns."""
PROBE = b'{"query":"{__typename}"}'


async def create_objects(conn: asyncpg.Connection) -> None:
    """Creates (or recreates) the peer's schema and functions (peer.sql), in one transaction."""
    async with conn.transaction():
        await conn.execute(PEER_SQL.read_text())


def processes(workers: int) -> int:
    """How many node processes serve with `workers` workers: a master and its workers, or one
    process that serves itself."""
    return workers + 1 if workers > 1 else 1


def command(node: str, database_url: str, port: int, workers: int, pool_size: int) -> list[str]:
    """PostGraphile's command line: `workers` processes, each with a pool of `pool_size`
    keeping idle connections IDLE_MS."""
    cluster = ["--cluster-workers", str(workers)] if workers > 1 else []
    joint = "&" if "?" in database_url else "?"
    connection = f"{database_url}{joint}idleTimeoutMillis={IDLE_MS}"  # (pg-pool's option)
    return [
        node, *NODE_FLAGS, "--require", str(COUNTING), str(CLI),
        "--connection", connection, "--schema", ",".join(SCHEMAS),
        "--host", "127.0.0.1", "--port", str(port), "--max-pool-size", str(pool_size),
        *cluster, *SETTINGS, "--append-plugins", ",".join(PLUGINS),
    ]  # fmt: skip


@contextmanager
def serving_peer(
    node: str,
    database_url: str,
    *,
    workers: int,
    pool_size: int,
    counters: Path,
    log_path: Path,
) -> Iterator[Server]:
    """PostGraphile serving `database_url` until the block ends, its processes counting in
    `counters` (an empty directory); ready once each of them keeps its counters and
    `workers` requests in a row were answered (with workers, the master hands each new
    connection to the next one)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if len(read_counters(counters)) < processes(workers):
            return False
        return all(_answers(base) for _ in range(workers))

    env = {**ENVIRONMENT, COUNTERS_ENV: str(counters)}
    launched = command(node, database_url, port, workers, pool_size)
    try:
        with running(launched, env, log_path, base, up, cwd=PACKAGE_DIR, name="peer") as server:
            yield server
    finally:
        _stop_leftovers(counters)


def _answers(base: str) -> bool:
    answer = httpx.post(
        f"{base}/graphql",
        content=PROBE,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    return answer.status_code == 200


def _stop_leftovers(counters: Path) -> None:
    """SIGTERM to any of the peer's processes (they named themselves in `counters`) still
    running after its master stopped (workers exit when their master does)."""
    for pid in read_counters(counters):
        try:
            process = psutil.Process(pid)
            if str(COUNTING) in process.cmdline():  # (not a process that took its pid since)
                process.terminate()
        except psutil.NoSuchProcess:
            continue
