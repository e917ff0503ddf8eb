"""Redis as the HTTP edge uses it: a client that fails fast, and a breaker that stops asking
a Redis that just failed, so no request waits on a dead server and each outage is logged
once (when it starts and when it ends)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 1.0


def connect(url: str) -> Redis:
    """A client with short timeouts and one immediate retry (a pooled connection that died
    with a Redis restart is replaced, not reported)."""
    return Redis.from_url(
        url,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
        decode_responses=True,
    )


class Breaker:
    """After a Redis failure, `guard()` raises `unavailable` at once for
    RETRY_AFTER_SECONDS, then lets the next call try Redis again."""

    def __init__(self, log: logging.Logger, degraded: str, unavailable: type[Exception]) -> None:
        self.log = log
        self.degraded = degraded
        self.unavailable = unavailable
        self._down_until = 0.0

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Runs the block's Redis calls; their failure becomes `unavailable`."""
        if time.monotonic() < self._down_until:
            raise self.unavailable("Redis is unreachable")
        try:
            yield
        except (RedisError, OSError) as exc:
            if self._down_until == 0.0:
                self.log.warning("Redis is unreachable (%s): %s", exc, self.degraded)
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            raise self.unavailable(f"Redis is unreachable: {exc}") from exc
        if self._down_until:
            self.log.warning("Redis is reachable again")
            self._down_until = 0.0
