"""A request's field errors settled once it is done: where each happened in the response (its
path), which position it nulls (the nearest nullable one at or above it, as graphql-core
propagates a null), and which are reported (execution/propagation.py: one rule for every
path).

Where an object is in the response is found only here, when there are errors: the response
is walked from the root with the request's selections, so building an object costs no
bookkeeping of its position.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, located_error

from execution.completion import FieldError
from execution.plan import Field, Selection
from execution.propagation import report
from execution.runner import Runner

Path = list[str | int]
Link = tuple[dict[str, Any], Field, int | None]
"""Where an object hangs: (the object holding it, the field, the list index or None)."""


def settle(
    runner: Runner, root: Selection, data: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """The response data and its reported errors, located (not coded yet)."""
    links: dict[int, Link] = {}
    _walk(runner, root, data, links)
    nulls: list[tuple[GraphQLError, Path | None]] = []
    for failed in runner.errors:
        out = failed.outs[failed.index]
        path = [*_path_of(out, links), failed.field.key]
        if failed.item is not None:
            path.append(failed.item)
        nodes = failed.field.nodes(runner.conditions)
        nulls.append((located_error(failed.error, nodes, path), _nulled(failed, out, links)))
    return report(data, nulls)


def _walk(
    runner: Runner, selection: Selection, out: dict[str, Any], links: dict[int, Link]
) -> None:
    """Notes where every object below `out` hangs."""
    fields, _pair = runner.chosen(selection)
    for field in fields:
        if field.selection is None and field.selections is None:
            continue
        value = out.get(field.key)
        if type(value) is dict:
            links[id(value)] = (out, field, None)
            _walk(runner, _selection_of(runner, field, value), value, links)
        elif type(value) is list:
            for index, item in enumerate(value):
                if type(item) is dict:
                    links[id(item)] = (out, field, index)
                    _walk(runner, _selection_of(runner, field, item), item, links)


def _selection_of(runner: Runner, field: Field, out: dict[str, Any]) -> Selection:
    if field.selection is not None:
        return field.selection
    return runner.typed[id(out)]


def _path_of(out: dict[str, Any], links: Mapping[int, Link]) -> Path:
    path: Path = []
    link = links.get(id(out))
    while link is not None:
        parent, field, index = link
        if index is not None:
            path.append(index)
        path.append(field.key)
        link = links.get(id(parent))
    path.reverse()
    return path


def _nulled(failed: FieldError, out: dict[str, Any], links: Mapping[int, Link]) -> Path | None:
    """The path of the position the error nulls: the failed field or item when nullable,
    else the nearest nullable place above it; None: the whole `data`."""
    field, item = failed.field, failed.item
    while True:
        if item is not None and not field.item_non_null:
            return [*_path_of(out, links), field.key, item]
        if not field.non_null:
            return [*_path_of(out, links), field.key]
        link = links.get(id(out))
        if link is None:
            return None
        out, field, item = link
