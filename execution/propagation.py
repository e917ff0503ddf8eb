"""Which field errors a response reports, and which of its positions they null: one rule for
every execution path, so a response does not depend on the order its fields failed in.

Each field error E has its path p(E) and the position N(E) it nulls: the nearest nullable
position at or above p(E), or the whole `data` (the root). A position is *covered* when
another error nulls a proper ancestor of it (the root covers every other position). Each
uncovered position reports one error, the first in response order of those nulling it;
errors nulling a covered position are not reported, their data being gone with an
enclosing null. The reported errors come in response order, and `data` has every
uncovered position null. docs/errors.md states the rule for clients.

Response order compares paths segment by segment: a key by its place in its parent object
(the insertion order of the response's dicts: GraphQL's selection order), a list index by
its value; a path that is a prefix of another comes first.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

Path = list[str | int]
"""A response path: keys and list indexes from `data` down."""
Nulled = tuple[GraphQLError, Path | None]
"""A field error and the position it nulls (None: the root, `data` itself)."""

_UNRANKED = sys.maxsize
"""The rank of a key its parent object does not hold (or a segment below a missing object):
after every key it holds."""


def report(
    data: dict[str, Any] | None, nulls: Sequence[Nulled]
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """The response's data and errors for these field errors, each with the position it nulls.

    `data` is the built response. Each uncovered nulled position must be in it (its key in
    its parent object, its index in its list: it is nulled in place), and so must, where
    several errors null one position, the objects and keys on those errors' paths below it,
    so that the first can be told. Positions already null (graphql-core nulls them as it
    goes) stay null. Of errors that rank alike (paths `data` cannot tell apart), the one
    given first is reported. Returns `data` with the uncovered positions nulled (None: the
    root), and the reported errors in response order. Nulls in `data` itself; no I/O."""
    if not nulls:
        return data, []
    positions = {None if at is None else tuple(at) for _error, at in nulls}
    firsts: dict[tuple[str | int, ...] | None, GraphQLError] = {}
    for error, at in nulls:
        position = None if at is None else tuple(at)
        if _covered(position, positions):
            continue
        first = firsts.get(position)
        if first is None or _rank(data, _path_of(error)) < _rank(data, _path_of(first)):
            firsts[position] = error
    ordered = sorted(firsts, key=lambda position: _rank(data, position or ()))
    for position in ordered:
        data = _nulled(data, position)
    return data, [firsts[position] for position in ordered]


def _covered(
    position: tuple[str | int, ...] | None, positions: set[tuple[str | int, ...] | None]
) -> bool:
    """Whether another nulled position is a proper ancestor of `position` (or the root)."""
    if position is None:
        return False
    if None in positions:
        return True
    return any(position[:length] in positions for length in range(1, len(position)))


def _path_of(error: GraphQLError) -> Sequence[str | int]:
    """Where the error happened (an error without a path: at the root)."""
    return error.path or ()


def _rank(data: dict[str, Any] | None, path: Sequence[str | int]) -> tuple[int, ...]:
    """The path's place in response order, as a tuple to compare: for each segment, the
    key's index among its parent object's keys, or the list index."""
    ranks: list[int] = []
    node: Any = data
    for segment in path:
        if isinstance(segment, int):
            ranks.append(segment)
        elif _holds(node, segment):
            ranks.append(list(node).index(segment))
        else:
            ranks.append(_UNRANKED)
        node = node[segment] if _holds(node, segment) else None
    return tuple(ranks)


def _nulled(
    data: dict[str, Any] | None, position: tuple[str | int, ...] | None
) -> dict[str, Any] | None:
    """`data` with the position set to null (the root: None)."""
    if position is None:
        return None
    *above, last = position
    node: Any = data
    for segment in above:
        node = node[segment] if _holds(node, segment) else None
    if _holds(node, last):
        node[last] = None
    return data


def _holds(node: Any, segment: str | int) -> bool:
    """Whether `node`, an object or a list of the response, has this key or index."""
    if isinstance(segment, int):
        return isinstance(node, list) and 0 <= segment < len(node)
    return isinstance(node, dict) and segment in node
