"""How the pool opens, and opens its connections: the settings each runs with, the statement
that warms each up, the reset asyncpg runs when one goes back, connection failures as pinql's
exceptions (db/errors.py), and whether a connection is gone."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

import asyncpg
from asyncpg import exceptions as pg

from db.errors import DatabaseLoginRefused, DatabaseUnavailable, connection_fault
from db.pool_log import quiet_floor_retries

log = logging.getLogger("pinql.db")


class ConnectionInit(Protocol):
    """Called on each new pool connection (tests use it to count statements)."""

    async def __call__(self, conn: asyncpg.Connection, /) -> None: ...


async def keep_session(conn: asyncpg.Connection) -> None:
    """Pool reset hook: asyncpg already rolled back any open transaction; skip RESET ALL."""


SESSION_SETTINGS = {"jit": "off", "plan_cache_mode": "force_generic_plan"}
"""Settings every pool connection runs with, on any PostgreSQL (the embedded one too).

`jit` is off: every statement pinql sends is a short keyed lookup, but the planner cannot see
a page's `limit` through a lateral join (loaders/base.py's PAGED_SQL) and estimates such a
statement at tens of thousands of rows, past `jit_above_cost`; PostgreSQL would then compile
it to machine code on every execution, which takes far longer than running it.

`plan_cache_mode` is `force_generic_plan`: asyncpg prepares each statement once per
connection, and each is planned once, for any arguments. Left to choose, PostgreSQL plans a
wave's statement afresh on every execution (its generic plan's estimate, with arrays of
unknown length, is never below the custom plans'), and planning costs several times what
running it does. The arguments never change a plan's shape here: keys are looked up by
index whatever their number (tests/db/test_statement_plans.py checks every statement's
plan, under these settings)."""


# Makes asyncpg look up the array types loaders bind ($n::bigint[] ..., a search's scores as
# float8[]) and the record[] a wave's statement returns (db/waves.py) when the connection
# opens, instead of spending three round trips on it inside some request.
WARM_UP = "select $1::bigint[], $2::int[], $3::text[], $4::float8[], array[row(1)]"


def initializer(init: ConnectionInit | None) -> ConnectionInit:
    async def initialize(conn: asyncpg.Connection) -> None:
        await conn.fetch(WARM_UP, [], [], [], [])
        if init is not None:
            await init(conn)

    return initialize


async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, its failures as DatabaseUnavailable (the pool's `connect` hook)."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
    except TimeoutError:
        timeout = kwargs.get("timeout", 60)  # asyncpg's default
        raise DatabaseUnavailable(
            f"PostgreSQL did not answer a new connection within {timeout:g} s"
        ) from None
    except Exception as exc:
        fault = connection_fault(exc)
        if fault is None:
            raise
        raise fault from exc
    return conn


def gone(conn: asyncpg.pool.PoolConnectionProxy) -> bool:
    """Whether the connection is closed; asyncpg also takes a checked-out connection back
    into the pool when the server closes it, and its proxy then refuses every call."""
    try:
        return conn.is_closed()
    except pg.InterfaceError:
        return True


async def open_pool(
    dsn: str,
    min_size: int,
    max_size: int,
    init: ConnectionInit | None,
    server_settings: Mapping[str, str],
    *,
    connect_timeout: float,
) -> asyncpg.Pool:
    """A pool whose release costs no round trip (pinql keeps no session state).

    Its `min_size` connections are opened now, and reopened after an outage. If PostgreSQL
    is unreachable now, the pool opens empty, with a warning, and without that floor:
    statements raise DatabaseUnavailable until PostgreSQL answers, then take connections
    opened on demand. A refused login (or a bad DSN) raises.
    """
    quiet_floor_retries()

    async def create(min_size: int) -> asyncpg.Pool:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=initializer(init),
            reset=keep_session,
            connect=connect,
            timeout=connect_timeout,
            server_settings=dict(server_settings),
        )
        return pool

    try:
        return await create(min_size)
    except DatabaseLoginRefused:
        raise
    except DatabaseUnavailable as exc:
        floor = f"connections opened on demand, no floor of {min_size}"
        log.warning("%s: starting anyway, answering 503 until PostgreSQL is back (%s)", exc, floor)
        return await create(0)  # asyncpg opens a floor's connections at creation
