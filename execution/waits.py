"""Loads a request waits for: what a field's loader or plain function gave that only the next
wave brings (loaders/waves.py), and how the field is completed once it ran.

No future, task or callback per key: a keyed field waits for its loader's keys as a batch
(`KeyedWait`), a loaded field for the `Pending` of each parent (`LoadWait`); a plain function
written as a coroutine over loads (`nodes`) is stepped here, one step per wave (`Driven`).
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, NamedTuple, Protocol

from execution.plan import Field
from loaders.waves import Pending
from resolvers.fields import KeyLoader


class Runner(Protocol):
    """What a wait needs of the request's runner (execution/runner.py)."""

    waiting: list[Waiting]

    def fail(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        index: int,
        item: int | None,
        error: Exception,
    ) -> None:
        """Records a field error of the object `outs[index]`."""

    def complete(
        self,
        field: Field,
        values: list[Any],
        outs: Sequence[dict[str, Any]],
        at: Sequence[int] | None,
    ) -> list[Any]:
        """The values completed; `outs[at[j]]` holds value j."""


class Waiting(Protocol):
    """Something to complete after the next wave."""

    def resume(self, runner: Runner) -> None:
        """Completes what the wave brought (and waits again for what it did not)."""

    def abandon(self, runner: Runner, error: Exception) -> None:
        """Fails every object that waits, with `error` (no further wave runs)."""


class Driven:
    """A plain function written as a coroutine over planned loads, stepped by the engine:
    each step runs it to its next wait for a load (a `Pending`); done when it returned or
    raised."""

    __slots__ = ("coroutine", "done", "error", "value", "waits_for")

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self.coroutine = coroutine
        self.done = False
        self.value: Any = None
        self.error: Exception | None = None
        self.waits_for: Pending | None = None
        self.step()

    def step(self) -> None:
        """Runs it to its next wait, if what it waits for has come."""
        waits_for = self.waits_for
        if self.done or (waits_for is not None and not waits_for.done):
            return
        try:
            awaited = self.coroutine.send(None)
        except StopIteration as stop:
            self.value, self.done = stop.value, True
            return
        except Exception as error:
            self.error, self.done = error, True
            return
        if type(awaited) is not Pending:
            self.coroutine.close()
            self.done = True
            self.error = RuntimeError(f"a plain function awaited {awaited!r}, not a load")
            return
        self.waits_for = awaited


def write(
    outs: Sequence[dict[str, Any]], at: Sequence[int] | None, key: str, values: list[Any]
) -> None:
    """Writes a field's completed values into the objects (`outs[at[j]]`; all: `at` None)."""
    if at is None:
        for out, value in zip(outs, values, strict=True):
            out[key] = value
    else:
        for index, value in zip(at, values, strict=True):
            outs[index][key] = value


class LoadWait:
    """A loaded field's loads to come, for some of its objects."""

    __slots__ = ("at", "field", "outs", "waited")

    def __init__(
        self,
        field: Field,
        outs: Sequence[dict[str, Any]],
        at: list[int],
        waited: list[Pending | Driven],
    ) -> None:
        self.field = field
        self.outs = outs
        self.at = at
        """The index in `outs` of each object waiting."""
        self.waited = waited
        """What each waits for."""

    def abandon(self, runner: Runner, error: Exception) -> None:
        for index in self.at:
            runner.fail(self.field, self.outs, index, None, error)

    def resume(self, runner: Runner) -> None:
        field, outs = self.field, self.outs
        later = LoadWait(field, outs, [], [])
        values: list[Any] = []
        at: list[int] = []
        for index, waited in zip(self.at, self.waited, strict=True):
            if type(waited) is Driven:
                waited.step()
            if not waited.done:
                later.at.append(index)
                later.waited.append(waited)
            elif waited.error is not None:
                runner.fail(field, outs, index, None, waited.error)
            else:
                values.append(waited.value)
                at.append(index)
        if later.at:
            runner.waiting.append(later)
        if values:
            write(outs, at, field.key, runner.complete(field, values, outs, at))


class KeyedWait(NamedTuple):
    """A keyed field's keys, asked of its loader for a batch of objects. (A tuple: the
    engine makes one for every keyed field of every batch, with `tuple.__new__`, in C.)"""

    field: Field
    loader: KeyLoader[Any, Any]
    keys: list[Any]
    """Each object's key (None: its value is None)."""
    outs: Sequence[dict[str, Any]]
    at: list[int] | None
    """The index in `outs` of each key's object; None: key j is `outs[j]`'s."""

    def abandon(self, runner: Runner, error: Exception) -> None:
        for j in range(len(self.keys)):
            runner.fail(self.field, self.outs, j if self.at is None else self.at[j], None, error)

    def resume(self, runner: Runner) -> None:
        field, loader, keys, outs, at = self
        if not loader.failed:
            try:
                values = list(map(loader.known.__getitem__, keys))
            except KeyError:
                pass
            else:  # the usual case: the wave loaded every key
                write(outs, at, field.key, runner.complete(field, values, outs, at))
                return
        self.one_by_one(runner, loader.known, loader.failed)

    def one_by_one(
        self, runner: Runner, known: dict[Any, Any], failed: dict[Any, Exception]
    ) -> None:
        """Completes key by key: a key whose batch failed is its object's field error."""
        values: list[Any] = []
        indexes: list[int] = []
        for j, key in enumerate(self.keys):
            index = j if self.at is None else self.at[j]
            if key in known:  # (None is: as None)
                values.append(known[key])
                indexes.append(index)
            else:
                error = failed.get(key) or RuntimeError(
                    f"key {key!r} was neither loaded nor failed"
                )
                runner.fail(self.field, self.outs, index, None, error)
        if values:
            done = runner.complete(self.field, values, self.outs, indexes)
            write(self.outs, indexes, self.field.key, done)
