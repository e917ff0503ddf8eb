"""The peer's answers in pinql's shape, so that the check before measuring (bench/run.py) and
the tests can say whether the peer fetched the same objects as pinql.

The peer's queries (queries/) alias PostGraphile's fields to pinql's names and mark what
PostGraphile answers in another shape:
- `_type: __typename` beside a row `id`: the object's type; its `id` becomes pinql's global
  ID of that type (so does an `id` beside `__typename`, which NodeLookup asks for itself);
- `a__b: field`: field `b` of pinql's object `a` (`image__url: imageUrl`); `a__0`, `a__1`...:
  the items of pinql's list `a`;
- `_value: column` alone in an object: the object is that value (a count read through a
  relation: `pinCount: boardCountByBoardId { _value: pins }`);
- `_name: relation { ... }`: the relation's fields are the object's own
  (`_counts: pinCountByPinId { saveCount: publicSaves }`);
- `_exists: totalCount` alone in an object: whether it counted any (`viewerIsFollowing`).
Counters PostgreSQL keeps as bigint arrive as strings (GraphQL BigInt): they become numbers.

Then, on both sides: a cursor only says whether there is one (each server has its own
cursors), times are compared as instants, and a null `email` (pinql hides another user's) is
left out: the peer asks for it on the viewer's own profile only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resolvers.ids import encode_global_id

Json = Any
CURSORS = frozenset({"cursor", "startCursor", "endCursor"})
TIMES = frozenset({"createdAt"})


def unfolded(value: Json) -> Json:
    """A peer answer, or part of one, in pinql's shape."""
    if isinstance(value, list):
        return [unfolded(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.keys() == {"_value"}:
        return _number(value["_value"])
    if value.keys() == {"_exists"}:
        return bool(_number(value["_exists"]))
    shaped: dict[str, Json] = {}
    for key, item in value.items():
        if key == "_type":
            continue
        item = unfolded(item)
        if key.startswith("_") and not key.startswith("__") and isinstance(item, dict):
            shaped.update({name: _number(field) for name, field in item.items()})
        elif "__" in key.strip("_"):
            outer, _, inner = key.partition("__")
            _put(shaped, outer, {inner: item})
        else:
            _put(shaped, key, item)
    type_name = value.get("_type") or value.get("__typename")
    if type_name is not None and shaped.get("id") is not None:
        shaped["id"] = encode_global_id(type_name, int(shaped["id"]))
    return {key: _listed(item) for key, item in shaped.items()}


def _put(shaped: dict[str, Json], key: str, item: Json) -> None:
    """Sets `key`, merging objects that two aliases build together (`pins__totalCount`)."""
    there = shaped.get(key)
    if isinstance(there, dict) and isinstance(item, dict):
        there.update(item)
    else:
        shaped[key] = item


def _listed(item: Json) -> Json:
    """An object whose keys are all indexes (`a__0`, `a__1`...) as the list of its items."""
    if isinstance(item, dict) and item and all(key.isdigit() for key in item):
        return [item[key] for key in sorted(item, key=int)]
    return item


def _number(value: Json) -> Json:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def comparable(value: Json) -> Json:
    """An answer in pinql's shape with what two servers may spell differently made alike:
    cursors as whether there is one, times as instants, no null `email`."""
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if not isinstance(value, dict):
        return value
    alike: dict[str, Json] = {}
    for key, item in value.items():
        if key in CURSORS:
            alike[key] = None if item is None else "(a cursor)"
        elif key in TIMES and isinstance(item, str):
            alike[key] = datetime.fromisoformat(item)
        elif not (key == "email" and item is None):
            alike[key] = comparable(item)
    return alike


def difference(pinql: Json, peer: Json) -> str | None:
    """Where the peer's `data` (as answered) differs from pinql's, or None if it holds the
    same objects."""
    return _first_difference(comparable(pinql), comparable(unfolded(peer)), "data")


def _first_difference(ours: Json, theirs: Json, path: str) -> str | None:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return (
                f"{path}: pinql has fields {sorted(ours)}, the peer {sorted(theirs)} "
                f"(only pinql: {sorted(ours.keys() - theirs.keys())}, only the peer: "
                f"{sorted(theirs.keys() - ours.keys())})"
            )
        for key in ours:
            found = _first_difference(ours[key], theirs[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path}: pinql has {len(ours)} items, the peer {len(theirs)}"
        for i, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            found = _first_difference(mine, other, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if ours == theirs else f"{path}: pinql {ours!r}, the peer {theirs!r}"
