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
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from functools import cache, partial
from itertools import filterfalse
from typing import Any, ClassVar, Generic, TypeVar

from aiodataloader import DataLoader

from db.pool import Session
from db.waves import Row
from loaders.paging import Edge, Page, PageArgs, make_page
from loaders.waves import BatchObserver, Pending, Planned

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

ChildPage = tuple[int, PageArgs]
"""A page of a parent's children: (parent id, page arguments). Top-level lists use parent 0."""

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


Statement = tuple[str, tuple[Any, ...]]
"""A batch's SQL and its arguments (the viewer included)."""


class SqlLoader(DataLoader[K, V]):
    """A DataLoader that runs its SQL on one request's session, as one viewer.

    Its statements take the viewer as `$1` and the batch's keys from `$2` on; a loader whose
    answer is the same for every viewer sets `viewer_scoped = False`, and its keys start at
    `$1` (PostgreSQL refuses a parameter that a statement never uses).

    A batch is two plain steps: `statement(keys)` (None: answered without SQL) and
    `values(keys, rows)`. On graphql-core's path aiodataloader runs them (`batch_load_fn`);
    for the engine a loader is `planned` (loaders/waves.py): it keeps the values it loaded,
    `ask` notes a batch of parents' keys and `load` returns a key's `Pending`, and the fast
    path sends every pending batch of a level together, without a future or a task per key.
    """

    viewer_scoped: ClassVar[bool] = True
    primes: ClassVar[frozenset[str]] = frozenset()
    """The loaders (attributes of loaders.container.Loaders) this one's statement fills too,
    with the rows it joins (`prime`): a field keyed on one of them, below a row this loader
    brought, finds its value known and sends nothing (execution/explain.py relies on it)."""

    def __init__(self, session: Session, viewer_id: int | None) -> None:
        # aiodataloader's own state is set up on graphql-core's path's first use (`_batching`):
        # a planned loader never needs it, and its constructor (an `iscoroutinefunction`
        # check) costs a microsecond or two for each of the 9-15 loaders of a request.
        self._batching = False
        self.session = session
        self.viewer_id = viewer_id
        self.planned: Planned | None = None
        """Set by `Loaders.build(..., planned=True)`: the request's pending batches."""
        self.known: dict[K, V] = {None: None}  # type: ignore[dict-item]
        """Planned: the values loaded (or primed) so far, by key; the key None is known, as
        None (a parent without a key has no value: the engine asks for keys as they are)."""
        self.pending: dict[K, Pending | None] = {}
        """Planned: the keys asked for since the last wave, with the `Pending` a `load` of
        the key returned (None: asked for by `ask`, a batch of parents' keys)."""
        self.failed: dict[K, Exception] = {}
        """Planned: the keys whose batch failed in this loader's last wave, and its error
        (nothing failed is kept in `known`: a later load asks again)."""

    # aiodataloader's load returns a Future; a planned loader returns a Pending
    def load(self, key: K) -> Awaitable[V]:  # type: ignore[override]
        """The value for `key`.

        Planned: the key's `Pending` (done when the value is known). Otherwise a future,
        shielded: several fields may await one result, and graphql-core cancels a field's
        siblings when it fails; cancelling one awaiting field must not cancel the result the
        others share. A failure nobody awaits any more (its fields were cancelled) is not
        reported as "never retrieved"."""
        planned = self.planned
        if planned is not None:
            known = self.known
            if key in known:
                return Pending(known[key])
            pending = self.pending
            load = pending.get(key)
            if load is None:
                if not pending:
                    planned.waiting.append(self)
                load = pending[key] = Pending()
            return load
        if not self._batching:
            self._start_batching()
        shared = super().load(key)
        shared.add_done_callback(_retrieved)
        shielded = asyncio.shield(shared)
        shielded.add_done_callback(_retrieved)  # `nodes` stops at its first failing load
        return shielded

    def ask(self, keys: list[K]) -> bool:
        """Planned: asks for the keys whose values are not known yet (the next wave loads
        them: `known` has them after it, or `failed`); whether all were known. The engine
        asks for a batch of parents' keys at once, without a `Pending` per key."""
        planned = self.planned
        if planned is None:
            raise RuntimeError("ask is for planned loaders (the engine)")
        known = self.known
        pending = self.pending
        # (in C, not a Python loop per key: a page's parents ask for 30 keys at a time)
        missing = [*filterfalse(known.__contains__, keys)]
        if not missing:
            return True
        if not pending:
            planned.waiting.append(self)
            pending.update(dict.fromkeys(missing))
        else:  # keys `load` asked for keep their Pending
            pending.update(dict.fromkeys(filterfalse(pending.__contains__, missing)))
        return False

    def prime(self, key: K, value: V) -> SqlLoader[K, V]:
        """Adds a value loaded by another statement, unless the key's is already known."""
        if self.planned is not None:
            if key not in self.known:
                self.known[key] = value
            return self
        if not self._batching:
            self._start_batching()
        super().prime(key, value)
        return self

    def clear_all(self) -> SqlLoader[K, V]:
        """Forgets every value loaded so far."""
        self.known.clear()
        self.known[None] = None  # type: ignore[index, assignment]
        self.failed.clear()
        if self._batching:
            super().clear_all()
        return self

    def _start_batching(self) -> None:
        """Sets up aiodataloader's state, on graphql-core's path's first use."""
        DataLoader.__init__(self)
        self._batching = True

    def arguments(self, *args: Any) -> tuple[Any, ...]:
        """A statement's arguments: the viewer as $1 (if viewer-scoped), then `args`."""
        return (self.viewer_id, *args) if self.viewer_scoped else args

    @abstractmethod
    def statement(self, keys: list[K]) -> Statement | None:
        """The batch's SQL and arguments; None when its values need no SQL."""

    @abstractmethod
    def values(self, keys: list[K], rows: Sequence[Row]) -> list[V]:
        """One value per key, in key order, from the statement's rows (none: no SQL)."""

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        """aiodataloader's batch: the statement, sent alone, then the values."""
        observe = batch_observer.get()
        if observe is not None:
            observe(type(self).__name__, len(keys))
        statement = self.statement(keys)
        rows = () if statement is None else await self.session.fetch(statement[0], *statement[1])
        return self.values(keys, rows)


class RowByIdLoader(SqlLoader[int, R | None], Generic[R]):
    """Rows by id; None where the row does not exist or the viewer may not see it."""

    sql: ClassVar[str]
    """Selects the rows whose `id = any($2::bigint[])` that the viewer may see, `id` first."""

    @abstractmethod
    def make_row(self, record: Row, at: int) -> R:
        """Builds the row from the columns of `sql`, from `record[at]` on (`at` = 0)."""

    def statement(self, keys: list[int]) -> Statement | None:
        return self.sql, self.arguments(keys)

    def values(self, keys: list[int], rows: Sequence[Row]) -> list[R | None]:
        by_id = {r[0]: self.make_row(r, 0) for r in rows}
        return [by_id.get(k) for k in keys]


class CountByIdLoader(SqlLoader[int, int]):
    """A count per id (children of a parent the viewer may see); 0 where there are none."""

    sql: ClassVar[str]
    """Returns (id, n) rows for the ids in `$2::bigint[]` (`$1` if not viewer-scoped)."""

    def statement(self, keys: list[int]) -> Statement | None:
        return self.sql, self.arguments(keys)

    def values(self, keys: list[int], rows: Sequence[Row]) -> list[int]:
        counts: dict[int, int] = dict(rows)  # type: ignore[arg-type]  # (id, n) pairs
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
        self.sql = _paged_sql(self.body)

    @abstractmethod
    def make_row(self, record: Row, at: int) -> R:
        """Builds the row from the columns `body` selects after `position`, from
        `record[at]` on."""

    def statement(self, keys: list[ChildPage]) -> Statement | None:
        return self.sql, self.arguments(
            [parent for parent, _ in keys],
            [args.after for _, args in keys],
            [args.first + 1 for _, args in keys],
        )

    def values(self, keys: list[ChildPage], rows: Sequence[Row]) -> list[Page[R]]:
        edges: list[list[Edge[R]]] = [[] for _ in keys]
        make_row = self.make_row
        for r in rows:  # ord, position, row: each row an Edge (NamedTuple's __new__ is slow)
            edges[r[0] - 1].append(tuple.__new__(Edge, (r[1], make_row(r, 2))))
        return [
            self.page(page_edges, args, parent)
            for page_edges, (parent, args) in zip(edges, keys, strict=True)
        ]

    def page(self, edges: list[Edge[R]], args: PageArgs, parent: int) -> Page[R]:
        """One key's page; its totalCount comes from the count loader of the same parent.

        The page holds that count loader, never `self`: `self` keeps the page (in `known`),
        and a page holding it back would make a cycle of the whole page, freed only by the
        garbage collector."""
        return make_page(edges, args, partial(self.counts.load, parent))


@cache
def _paged_sql(body: str) -> str:
    return PAGED_SQL.format(body=body)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Marks a finished future's exception as seen (the fields awaiting it still get it)."""
    if not future.cancelled():
        future.exception()
