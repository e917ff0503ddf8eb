"""One round trip per wave: statements that can go together are sent to PostgreSQL as one.

`fetch_together` sends a list of statements as

    select array(select s from (<statement 1>) as s), array(select s from (<statement 2>) as s)

each statement keeping its own parameters (renumbered after the previous ones') and its rows,
in order, as one `record[]` column; a lone statement is sent as it is. The engine's
planned loaders (loaders/waves.py) send each level of a query this way, so a request's round
trips depend on its query's depth, not on how many loaders each level uses. `Wave` does the
same for statements issued concurrently in one event-loop turn (`asyncio.gather`): the
benchmark's floor (bench/floor/) sends pinql's statements with it.

Rows of a combined statement are tuples, those of a statement sent alone asyncpg Records:
callers read both by position.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any

import asyncpg

Row = asyncpg.Record | tuple[Any, ...]
"""A result row, read by position."""

Fetch = Callable[..., Awaitable[Sequence[Row]]]
"""Runs one statement with its arguments and returns its rows (`Session.fetch`)."""

PARAMETER = re.compile(r"\$(\d+)")
MAX_COMBINED_TEXTS = 512
"""Combined statement texts kept per process (the waves of every operation seen)."""


@lru_cache(maxsize=MAX_COMBINED_TEXTS)
def combined_sql(statements: tuple[tuple[str, int], ...]) -> str:
    """One statement returning each of `statements` (text, parameter count) as a `record[]`
    column, in order; each statement's `$n` is renumbered after the previous ones'."""
    columns = []
    offset = 0
    for sql, count in statements:
        renumbered = PARAMETER.sub(lambda m, o=offset: f"${int(m[1]) + o}", sql)  # type: ignore[misc]
        columns.append(f"array(select s from ({renumbered}) as s)")
        offset += count
    return "select " + ", ".join(columns)


async def fetch_together(
    fetch: Fetch, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[Sequence[Row]]:
    """The rows of each statement, all sent in one round trip (a lone one as it is)."""
    if len(statements) == 1:
        sql, args = statements[0]
        return [await fetch(sql, *args)]
    texts = tuple((sql, len(args)) for sql, args in statements)
    (row,) = await fetch(combined_sql(texts), *(arg for _, args in statements for arg in args))
    return list(row)


class Wave:
    """Statements issued concurrently on one connection (in one event-loop turn), sent
    together by `fetch`: `Wave(conn.fetch)`, then `asyncio.gather` of `wave.fetch` calls."""

    __slots__ = ("_fetch", "_joined")

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._joined: list[tuple[str, tuple[Any, ...], asyncio.Future[Sequence[Row]]]] | None
        self._joined = None

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        """The rows of `sql`, sent with the other statements of this turn."""
        joined = self._joined
        if joined is not None:  # a statement of this turn waits to be sent: join it
            future: asyncio.Future[Sequence[Row]] = asyncio.get_running_loop().create_future()
            joined.append((sql, args, future))
            return await future
        self._joined = joined = []
        try:
            await asyncio.sleep(0)  # the other statements of this turn join meanwhile
            self._joined = None
            statements = [(sql, args)] + [(s, a) for s, a, _ in joined]
            rows = await fetch_together(self._fetch, statements)
        except BaseException as exc:
            self._joined = None
            for _, _, waiting in joined:  # they share the statement's fate
                if waiting.done():
                    continue
                if isinstance(exc, Exception):
                    waiting.set_exception(exc)
                else:
                    waiting.cancel()
            raise
        for (_, _, waiting), theirs in zip(joined, rows[1:], strict=True):
            if not waiting.done():  # (a cancelled caller no longer waits)
                waiting.set_result(theirs)
        return rows[0]
