"""db/pool_log.py: asyncpg's line about a failed reopening of the pool's floor becomes one
line with the reason, at most one per interval, counting the others; other lines pass as
they are."""

from __future__ import annotations

import logging

from db.pool_log import FLOOR_RETRY, FloorRetries


def _record(msg: str, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    return logging.LogRecord("asyncpg.pool", logging.WARNING, __file__, 1, msg, (), exc_info)


def test_a_failed_reopening_is_one_line_with_its_reason() -> None:
    retries = FloorRetries(interval=60)
    record = _record(FLOOR_RETRY + "; retrying", ConnectionRefusedError(111, "refused"))
    assert retries.filter(record)
    assert record.getMessage() == (
        "could not reopen the pool's idle connections (PostgreSQL refused the connection "
        "(is it running?)); retrying"
    )
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


def test_one_line_per_interval_says_how_many_were_dropped() -> None:
    retries = FloorRetries(interval=0.05)
    assert retries.filter(_record(FLOOR_RETRY, ValueError("odd")))
    assert not retries.filter(_record(FLOOR_RETRY, ValueError("odd")))
    assert not retries.filter(_record(FLOOR_RETRY, ValueError("odd")))
    assert retries.dropped == 2
    retries.last = (retries.last or 0.0) - 0.05  # the interval has passed
    record = _record(FLOOR_RETRY, ValueError("odd"))
    assert retries.filter(record)
    assert record.getMessage() == (
        "could not reopen the pool's idle connections (ValueError: odd); 2 more attempts "
        "failed since the last line; retrying"
    )
    assert retries.dropped == 0


def test_other_lines_pass_as_they_are() -> None:
    retries = FloorRetries()
    record = _record("something else", ValueError("kept"))
    assert retries.filter(record)
    assert record.exc_info is not None and record.getMessage() == "something else"
