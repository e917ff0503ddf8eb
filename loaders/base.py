"""The three loader shapes every access pattern fits: rows by id, counts by id, pages by parent.

A loader is built per request with the request's Session and viewer; each statement gets the
viewer id as `$1` (see loaders.privacy) and the batch's keys as arrays, so a batch of any
size is one statement.

`batch_observer`, when the HTTP edge sets it for a request, hears the size of every batch its
loaders run (server/metrics.py: `pinql_loader_batch_size`).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader

from db.pool import Session
from db.waves import Row
from loaders.paging import Page, PageArgs, make_page

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

ChildPage = tuple[int, PageArgs]
"""A page of a parent's children: (parent id, page arguments). Top-level lists use parent 0."""

BatchObserver = Callable[[str, int], None]
"""Called with (loader class name, number of keys) before each batch runs."""

batch_observer: ContextVar[BatchObserver | None] = ContextVar("pinql_batch_observer", default=None)
"""The observer of the loaders built in this context (none: batches are not observed)."""

# Returns each key's page: up to `lim` rows of the lateral body, tagged with the key's ordinal.
PAGED_SQL = """
select k.ord, c.*
from unnest($2::bigint[], $3::bigint[], $4::int[])
    with ordinality as k(parent_id, after_id, lim, ord)
cross join lateral ({body}) as c
"""
# In a lateral body: the keyset bound, "strictly older than the cursor" (no cursor: no bound).
AFTER = "coalesce(k.after_id, 9223372036854775807)"


class SqlLoader(DataLoader[K, V]):
    """A DataLoader that runs its SQL on one request's session, as one viewer.

    Its statements take the viewer as `$1` and the batch's keys from `$2` on; a loader whose
    answer is the same for every viewer sets `viewer_scoped = False`, and its keys start at
    `$1` (PostgreSQL refuses a parameter that a statement never uses).
    """

    viewer_scoped: ClassVar[bool] = True

    def __init__(self, session: Session, viewer_id: int | None) -> None:
        super().__init__()
        self.session = session
        self.viewer_id = viewer_id
        self.planned = False
        """Whether batches go with the other statements of their event-loop turn: set for
        the fast path, whose waves are the query's levels (Loaders.build)."""
        observe = batch_observer.get()
        if observe is not None:
            self.batch_load_fn = _observed(self.batch_load_fn, type(self).__name__, observe)

    def load(self, key: K) -> asyncio.Future[V]:
        """The value for `key`. Shielded: several fields may await one result, and
        graphql-core cancels a field's siblings when it fails; cancelling one awaiting field
        must not cancel the result the others share. A failure nobody awaits any more (its
        fields were cancelled) is not reported as "never retrieved". The fast path (planned
        loaders) never cancels a field alone and reads every result: its loads are not
        shielded."""
        shared = super().load(key)
        if self.planned:
            return shared
        shared.add_done_callback(_retrieved)
        return asyncio.shield(shared)

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        """Runs `sql` with the viewer as $1 (if viewer-scoped) and then `args`: with the
        other statements of its event-loop turn when `planned` (db/waves.py)."""
        fetch = self.session.wave.fetch if self.planned else self.session.fetch
        if self.viewer_scoped:
            return await fetch(sql, self.viewer_id, *args)
        return await fetch(sql, *args)


class RowByIdLoader(SqlLoader[int, R | None], Generic[R]):
    """Rows by id; None where the row does not exist or the viewer may not see it."""

    sql: ClassVar[str]
    """Selects the rows whose `id = any($2::bigint[])` that the viewer may see, `id` first."""

    @abstractmethod
    def make_row(self, record: Row, at: int) -> R:
        """Builds the row from the columns of `sql`, from `record[at]` on (`at` = 0)."""

    async def batch_load_fn(self, keys: list[int]) -> list[R | None]:
        by_id = {r[0]: self.make_row(r, 0) for r in await self.fetch(self.sql, keys)}
        return [by_id.get(k) for k in keys]


class CountByIdLoader(SqlLoader[int, int]):
    """A count per id (children of a parent the viewer may see); 0 where there are none."""

    sql: ClassVar[str]
    """Returns (id, n) rows for the ids in `$2::bigint[]` (`$1` if not viewer-scoped)."""

    async def batch_load_fn(self, keys: list[int]) -> list[int]:
        counts: dict[int, int] = {r[0]: r[1] for r in await self.fetch(self.sql, keys)}
        return [counts.get(k, 0) for k in keys]


class PageByParentLoader(SqlLoader[ChildPage, Page[R]], Generic[R]):
    """Pages of children for many parents in ONE statement (LATERAL, first+1 rows each).

    `body` is the lateral subquery: it reads `k.parent_id`, bounds its keyset with `AFTER`,
    orders newest first, ends with `limit k.lim`, and selects the keyset value as `position`,
    then the row's columns.
    """

    body: ClassVar[str]

    def __init__(self, session: Session, viewer_id: int | None, counts: CountByIdLoader) -> None:
        super().__init__(session, viewer_id)
        self.counts = counts

    @abstractmethod
    def make_row(self, record: Row, at: int) -> R:
        """Builds the row from the columns `body` selects after `position`, from
        `record[at]` on."""

    async def batch_load_fn(self, keys: list[ChildPage]) -> list[Page[R]]:
        records = await self.fetch(
            PAGED_SQL.format(body=self.body),
            [parent for parent, _ in keys],
            [args.after for _, args in keys],
            [args.first + 1 for _, args in keys],
        )
        positioned: list[list[tuple[int, R]]] = [[] for _ in keys]
        for r in records:
            positioned[r[0] - 1].append((r[1], self.make_row(r, 2)))  # ord, position, row
        return [
            self.page(rows, args, parent)
            for rows, (parent, args) in zip(positioned, keys, strict=True)
        ]

    def page(self, rows: Sequence[tuple[int, R]], args: PageArgs, parent: int) -> Page[R]:
        """One key's page; its totalCount comes from the count loader of the same parent."""
        return make_page(rows, args, lambda: self.counts.load(parent))


def _observed(
    batch_load_fn: Callable[[list[K]], Coroutine[Any, Any, list[V]]],
    name: str,
    observe: BatchObserver,
) -> Callable[[list[K]], Coroutine[Any, Any, list[V]]]:
    """`batch_load_fn`, telling `observe` each batch's size first."""

    async def observed(keys: list[K]) -> list[V]:
        observe(name, len(keys))
        return await batch_load_fn(keys)

    return observed


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Marks a finished future's exception as seen (the fields awaiting it still get it)."""
    if not future.cancelled():
        future.exception()
