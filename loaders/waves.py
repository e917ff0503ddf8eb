"""Planned loading, for the engine (execution/): loads are noted as they are asked for, and a
whole level of the query is then loaded in one round trip, with no future, task or callback
per key.

A planned loader keeps the values it has loaded (`known`) and notes the keys asked for since
the last wave (`pending`), the loader itself noted in its request's `Planned`. The engine
asks for a batch of parents' keys at once (`SqlLoader.ask`); `load(key)` returns the key's
`Pending`, done at once when the value is known. `run_wave()` takes every noted batch, builds
each loader's statement (`SqlLoader.statement`), sends them together
(`db.waves.fetch_together`: one statement, one round trip), and gives each key its value
(`SqlLoader.values`, into `known` and any `Pending`), or the batch's error (into `failed`
and any `Pending`). The engine (execution/) reads them once the wave ran, and drives plain
functions written as coroutines itself: awaiting a `Pending` suspends them until the next
wave.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

from db.waves import Fetch, Row, fetch_together

BatchObserver = Callable[[str, int], None]
"""Called with (loader class name, number of keys) before each batch runs."""

_UNSET: Any = object()


class Pending:
    """A planned load: its value (or error) once its wave ran."""

    __slots__ = ("done", "error", "value")

    def __init__(self, value: Any = _UNSET) -> None:
        self.value: Any = value
        self.error: Exception | None = None
        self.done = value is not _UNSET
        """Whether its wave ran (or its value was known)."""

    def result(self) -> Any:
        """The loaded value; raises the batch's error."""
        if self.error is not None:
            raise self.error
        if not self.done:
            raise RuntimeError("read before its wave ran")
        return self.value

    def __await__(self) -> Generator[Pending, None, Any]:
        """In a coroutine the engine drives: suspends it until the wave ran."""
        if not self.done:
            yield self
        return self.result()


class Batched(Protocol):
    """What a wave needs of a planned loader (loaders.base.SqlLoader)."""

    known: dict[Any, Any]
    pending: dict[Any, Pending | None]
    failed: dict[Any, Exception]

    def statement(self, keys: list[Any]) -> tuple[str, tuple[Any, ...]] | None:
        """The batch's SQL and arguments; None when its values need no SQL."""

    def values(self, keys: list[Any], rows: Sequence[Row]) -> list[Any]:
        """One value per key, in key order, from the statement's rows."""


class Planned:
    """One request's planned loading: the loaders with keys waiting for the next wave."""

    __slots__ = ("failed", "fetch", "observe", "waiting")

    def __init__(self, fetch: Fetch, observe: BatchObserver | None) -> None:
        self.fetch = fetch
        """Runs one statement on the request's session (`Session.fetch`)."""
        self.observe = observe
        self.failed = False
        """Whether a batch of the last wave failed (False: every load it ran has its value)."""
        self.waiting: list[Batched] = []
        """Loaders with pending keys, in the order they were first asked (the order of the
        statements in the wave)."""

    async def run_wave(self) -> None:
        """Loads every pending key: one round trip for all the batches (none if no batch
        needs SQL)."""
        loaders, self.waiting = self.waiting, []
        self.failed = False
        batches: list[tuple[Batched, list[Any], dict[Any, Pending | None]]] = []
        statements: list[tuple[str, tuple[Any, ...]]] = []
        sent: list[int] = []  # index in `batches` of each statement
        failed: dict[int, Exception] = {}
        for loader in loaders:
            asked, loader.pending = loader.pending, {}
            loader.failed = {}
            keys = list(asked)
            index = len(batches)
            batches.append((loader, keys, asked))
            if self.observe is not None:
                self.observe(type(loader).__name__, len(keys))
            try:
                statement = loader.statement(keys)
            except Exception as exc:  # e.g. homeFeed for an anonymous viewer
                failed[index] = exc
                continue
            if statement is not None:
                statements.append(statement)
                sent.append(index)
        results: dict[int, Sequence[Row]] = {}
        if statements:
            try:
                rows = await fetch_together(self.fetch, statements)
            except Exception as exc:
                failed.update(dict.fromkeys(sent, exc))
            else:
                results = dict(zip(sent, rows, strict=True))
        for index, (loader, keys, asked) in enumerate(batches):
            error = failed.get(index)
            if error is None:
                try:
                    values = loader.values(keys, results.get(index, ()))
                except Exception as exc:
                    error = exc
            if error is not None:  # nothing is kept: a later load asks again
                self.failed = True
                loader.failed = dict.fromkeys(keys, error)
                for pending in asked.values():
                    if pending is not None:
                        pending.error, pending.done = error, True
                continue
            loader.known.update(zip(keys, values, strict=True))
            if any(asked.values()):  # some keys were asked for by `load`: their Pending
                for pending, value in zip(asked.values(), values, strict=True):
                    if pending is not None:
                        pending.value, pending.done = value, True
