"""Health endpoints for orchestrators: `/healthz` (the process is alive) and `/readyz` (it can
serve: PostgreSQL and Redis answer). Neither is cached, and neither names a server's address."""

from __future__ import annotations

import asyncio
import re

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import TimeoutError as RedisTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from db.errors import DatabaseUnavailable, os_error_reason
from db.pool import Database

CHECK_TIMEOUT_SECONDS = 1.0
NO_STORE = {"Cache-Control": "no-store"}
ADDRESS = re.compile(r"[\w.\[\]-]+:\d+")  # host:port, in some redis-py messages


async def healthz(request: Request) -> Response:
    """200 while the process runs; touches neither PostgreSQL nor Redis."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """200 when PostgreSQL, its read replica and Redis (those configured) answer within a
    second, else 503; each check says `ok` or why not."""
    replica: Database | None = request.state.replica
    postgresql, redis, *rest = await asyncio.gather(
        check_postgresql(request.state.database),
        check_redis(request.state.redis),
        *([check_postgresql(replica)] if replica is not None else []),
    )
    checks = {"postgresql": postgresql, "redis": redis}
    if rest:
        checks["postgresql_replica"] = rest[0]
    if all(result in ("ok", "not configured") for result in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks}, headers=NO_STORE)
    return JSONResponse({"status": "unavailable", "checks": checks}, 503, headers=NO_STORE)


async def check_postgresql(database: Database) -> str:
    """`ok` when `select 1` runs through the pool in time, else `unreachable: <why>`
    (`failing: <error>` for anything but an outage)."""
    session = database.session()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await session.fetch("select 1")
    except TimeoutError:
        return f"unreachable: no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except DatabaseUnavailable as exc:
        return f"unreachable: {exc}"
    except Exception as exc:  # not ready, whatever the reason; the probe must answer
        return f"failing: {type(exc).__name__}"
    finally:
        await session.close()
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
