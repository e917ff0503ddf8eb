"""Which field errors a response reports, and which of its positions are null: one rule for
every execution path, so the same request gives the same errors every time.

Each error nulls a position: the nearest nullable one at or above where it happened (the
whole `data` when there is none). A nulled position inside another nulled position is gone
with it, and its errors are not reported. Each remaining nulled position reports one error,
the first in response order of those that null it; reported errors come in response order.
Response order compares paths segment by segment: a key by its place in its object (the
selection's order), a list index by its value; a path before any path it is a prefix of.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

Path = list[str | int]


def report(
    data: dict[str, Any] | None, nulls: Sequence[tuple[GraphQLError, Path | None]]
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """The data with every reported error's position nulled, and the reported errors, in
    response order. `nulls`: each error with the path of the position it nulls (None: the
    root). `data` holds every object on the errors' paths (nothing nulled yet), or at least
    those above each nulled position."""
    ranked = sorted(nulls, key=lambda pair: _rank(data, pair[0].path or []))
    chosen: dict[tuple[str | int, ...] | None, GraphQLError] = {}
    for error, nulled in ranked:
        place = None if nulled is None else tuple(nulled)
        if place not in chosen:
            chosen[place] = error
    reported: list[GraphQLError] = []
    places = list(chosen)
    for place, error in chosen.items():
        if any(_inside(place, other) for other in places if other != place):
            continue
        reported.append(error)
    for place in places:
        if place is None:
            return None, [chosen[None]]
    for place in places:
        if not any(_inside(place, other) for other in places if other != place):
            _set_null(data, place)
    return data, reported


def _inside(place: tuple[str | int, ...] | None, other: tuple[str | int, ...] | None) -> bool:
    """Whether `place` lies inside `other` (`other` a proper prefix; None: the root)."""
    if place is None:
        return False
    if other is None:
        return True
    return len(other) < len(place) and place[: len(other)] == other


def _rank(data: Any, path: Path) -> tuple[int, ...]:
    """A path's place in response order, read from the objects along it."""
    rank: list[int] = []
    value = data
    for segment in path:
        if isinstance(segment, int):
            rank.append(segment)
            value = value[segment] if isinstance(value, list) and segment < len(value) else None
        elif isinstance(value, dict):
            keys = list(value)
            rank.append(keys.index(segment) if segment in value else len(keys))
            value = value.get(segment)
        else:
            rank.append(0)
            value = None
    return tuple(rank)


def _set_null(data: Any, place: tuple[str | int, ...] | None) -> None:
    assert place is not None
    value = data
    for segment in place[:-1]:
        value = value[segment]
    value[place[-1]] = None
