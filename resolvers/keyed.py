"""Plain functions that are one loader's value for one column of the parent row, marked as
such (`by_key`), so that the fast path (schema/fast) asks for a whole batch of parents in
one call (`SqlLoader.ask`) instead of calling the function once per parent.

The mark must say what the function does: tests/resolvers/test_keyed.py checks every marked
function against its mark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "pinql_by_key"


@dataclass(frozen=True, slots=True)
class ByKey:
    """`loaders.<loader>.load(root.<column>)`."""

    loader: str
    """The `Loaders` attribute."""
    column: str
    """The parent row's attribute that is the key."""
    key_of: Callable[[Any], Any] = field(init=False, repr=False, compare=False)
    """`root.<column>` (operator.attrgetter)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_of", attrgetter(self.column))


def by_key(loader: str, column: str) -> Callable[[F], F]:
    """Marks a plain function `load_x(loaders, root)` that returns
    `loaders.<loader>.load(root.<column>)`."""

    def mark(fn: F) -> F:
        setattr(fn, _MARK, ByKey(loader, column))
        return fn

    return mark


def by_key_of(fn: Callable[..., Any]) -> ByKey | None:
    """The mark of a plain function; None when it is not marked."""
    mark = getattr(fn, _MARK, None)
    return mark if isinstance(mark, ByKey) else None
