"""One round trip per wave: the statements a request sends in the same event-loop turn go to
PostgreSQL as one statement.

A wave of loads (every loader the fast path calls for one level of a query) dispatches its
batches in the same turn. `Wave.fetch` holds the first statement for one turn, lets the
others of that turn join it, and sends them as

    select array(select s from (<statement 1>) as s), array(select s from (<statement 2>) as s)

each statement keeping its own parameters (renumbered after the previous ones') and its rows,
in order, as one `record[]` column. A statement alone in its turn is sent as it is. So a
request's round trips depend on its query's depth, not on how many loaders each level uses.

Rows of a combined statement are tuples, those of a statement sent alone asyncpg Records:
callers read both by position.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

Row = asyncpg.Record | tuple[Any, ...]
"""A result row, read by position."""

Fetch = Callable[..., Awaitable[Sequence[Row]]]
"""Runs one statement with its arguments and returns its rows (`Session.fetch`)."""

PARAMETER = re.compile(r"\$(\d+)")
MAX_COMBINED_TEXTS = 512
"""Combined statement texts kept per process (the waves of every operation seen)."""

_combined: dict[tuple[tuple[str, int], ...], str] = {}


def combined_sql(statements: Sequence[tuple[str, int]]) -> str:
    """One statement returning each of `statements` (text, parameter count) as a `record[]`
    column, in order; each statement's `$n` is renumbered after the previous ones'."""
    key = tuple(statements)
    text = _combined.get(key)
    if text is None:
        columns = []
        offset = 0
        for sql, count in statements:
            renumbered = PARAMETER.sub(lambda m, o=offset: f"${int(m[1]) + o}", sql)  # type: ignore[misc]
            columns.append(f"array(select s from ({renumbered}) as s)")
            offset += count
        text = "select " + ", ".join(columns)
        if len(_combined) >= MAX_COMBINED_TEXTS:
            _combined.clear()  # a bounded cache: texts are rebuilt when needed
        _combined[key] = text
    return text


class Wave:
    """The statements of one request's current event-loop turn, sent together by `fetch`."""

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
            await asyncio.sleep(0)  # the other loaders of this turn join meanwhile
            self._joined = None
            if not joined:
                return await self._fetch(sql, *args)
            statements = [(sql, len(args))] + [(s, len(a)) for s, a, _ in joined]
            every = [*args] + [arg for _, a, _ in joined for arg in a]
            (row,) = await self._fetch(combined_sql(statements), *every)
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
        for index, (_, _, waiting) in enumerate(joined, 1):
            if not waiting.done():  # (a cancelled loader no longer waits)
                waiting.set_result(row[index])
        rows: Sequence[Row] = row[0]
        return rows
