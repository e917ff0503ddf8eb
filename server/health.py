"""Health endpoints for orchestrators: `/healthz` (the process is alive) and `/readyz` (it can
serve: PostgreSQL answers, and Redis too when requests cannot be served without it). Neither
is cached, and neither names a server's address.

Readiness is about this replica, not its neighbours: every replica shares PostgreSQL and
Redis, so a load balancer that pulled replicas for a fault they all share would turn a
degraded service into none. Redis down while requests go on without it (rate limits failing
open, documents from the process's cache) is `degraded`, 200; and PostgreSQL is checked on a
connection of its own, so a pool whose connections are all busy (a long lock, a burst) does
not make a PostgreSQL that answers look unreachable."""

from __future__ import annotations

import asyncio
import re

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import TimeoutError as RedisTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db.errors import DatabaseUnavailable, os_error_reason
from db.health import HealthConnection

CHECK_TIMEOUT_SECONDS = 1.0
NO_STORE = {"Cache-Control": "no-store"}
ADDRESS = re.compile(r"[\w.\[\]-]+:\d+")  # host:port, in some redis-py messages


async def healthz(request: Request) -> Response:
    """200 while the process runs; touches neither PostgreSQL nor Redis."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """200 `ready` when PostgreSQL, its read replica and Redis (those configured) answer
    within a second; 200 `degraded` when only Redis does not and requests go on without it
    (`redis_required` false in the app's state); else 503 `unavailable`. Each check says
    `ok` or why not."""
    replica: HealthConnection | None = request.state.replica_health
    postgresql, redis, *rest = await asyncio.gather(
        check_postgresql(request.state.health),
        check_redis(request.state.redis),
        *([check_postgresql(replica)] if replica is not None else []),
    )
    checks = {"postgresql": postgresql, "redis": redis}
    if rest:
        checks["postgresql_replica"] = rest[0]
    failing = {name for name, result in checks.items() if not _serves(result)}
    if not failing:
        return JSONResponse({"status": "ready", "checks": checks}, headers=NO_STORE)
    if failing == {"redis"} and not request.state.redis_required:
        return JSONResponse({"status": "degraded", "checks": checks}, headers=NO_STORE)
    return JSONResponse({"status": "unavailable", "checks": checks}, 503, headers=NO_STORE)


def _serves(result: str) -> bool:
    return result in ("ok", "not configured")


async def check_postgresql(health: HealthConnection) -> str:
    """`ok` when `select 1` runs on the check's own connection in time (db/health.py: the
    pool's queue does not count), else `unreachable: <why>` (`failing: <error>` for
    anything but an outage)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await health.select_one()
    except TimeoutError:
        return f"unreachable: no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except DatabaseUnavailable as exc:
        return f"unreachable: {exc}"
    except Exception as exc:  # not ready, whatever the reason; the probe must answer
        return f"failing: {type(exc).__name__}"
    return "ok"


async def check_redis(redis: Redis | None) -> str:
    """`ok` when Redis answers PING in time, `not configured` without REDIS_URL, else
    `unreachable: <why>`."""
    if redis is None:
        return "not configured"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis.ping()
    except TimeoutError:
        return f"unreachable: no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except AuthenticationError:
        return "unreachable: authentication failed"
    except (RedisError, OSError) as exc:
        return f"unreachable: {redis_reason(exc)}"
    except Exception as exc:  # not ready, whatever the reason; the probe must answer
        return f"failing: {type(exc).__name__}"
    return "ok"


def redis_reason(exc: BaseException) -> str:
    """A short reason for a failed Redis call, without the server's address: the operating
    system's words when a connection failed, else redis-py's, else the error's kind."""
    if isinstance(exc, RedisTimeout):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError):
            return os_error_reason(cause)
        cause = cause.__cause__ or cause.__context__
    message = str(exc).strip().rstrip(".")
    if message and not ADDRESS.search(message):
        return message[:1].lower() + message[1:]
    return type(exc).__name__
