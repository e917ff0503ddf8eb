"""asyncpg's pool log, made readable through an outage: while PostgreSQL is down, the pool
logs each failed attempt to reopen its floor of idle connections with a full traceback (1 to
60 s apart, from every worker). `quiet_floor_retries` keeps one line per interval instead,
with what went wrong and how many attempts failed since the last line."""

from __future__ import annotations

import logging
import time

from db.errors import connection_fault

ASYNCPG_POOL = "asyncpg.pool"
FLOOR_RETRY = "Failed to restore the pool connection floor"
"""How asyncpg's line about a failed reopening begins (asyncpg/pool.py)."""
INTERVAL = 60.0
"""Seconds between two lines about failed reopenings."""


class FloorRetries(logging.Filter):
    """Rewrites asyncpg's line about a failed reopening as one line with the error, at most
    one per `interval` seconds (the others are counted, and dropped); other lines pass."""

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self.last: float | None = None
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(FLOOR_RETRY):
            return True
        now = time.monotonic()
        if self.last is not None and now - self.last < self.interval:
            self.dropped += 1
            return False
        error = record.exc_info[1] if record.exc_info else None
        fault = connection_fault(error) if error is not None else None
        reason = str(fault) if fault is not None else f"{type(error).__name__}: {error}"
        since = f"; {self.dropped} more attempts failed since the last line" if self.dropped else ""
        record.msg = "could not reopen the pool's idle connections (%s)%s; retrying"
        record.args = (reason, since)
        record.exc_info = record.exc_text = None
        self.last, self.dropped = now, 0
        return True


FLOOR_RETRIES = FloorRetries()


def quiet_floor_retries() -> None:
    """Puts the process's FloorRetries on asyncpg's pool logger (once)."""
    logger = logging.getLogger(ASYNCPG_POOL)
    if FLOOR_RETRIES not in logger.filters:
        logger.addFilter(FLOOR_RETRIES)
