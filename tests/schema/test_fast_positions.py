"""The fast path's positions made when asked for (schema/fast/execute.py): they read as the
lists of position tuples they stand for."""

from __future__ import annotations

from typing import Any, cast

import pytest

from schema.fast.execute import _Attached, _Listed
from schema.fast.plan import FieldPlan

FIELD = cast(FieldPlan, object())  # only carried along


def test_attached_positions_are_each_parents_child_at_key() -> None:
    parents: list[Any] = [None, ("up", {}, "k", 0, FIELD)]
    outs: list[dict[str, Any]] = [{"a": 1}, {"b": 2}]

    attached = _Attached(parents, outs, "child", FIELD)

    expected = [(p, o, "child", None, FIELD) for p, o in zip(parents, outs, strict=True)]
    assert len(attached) == 2
    assert list(attached) == expected
    assert attached[-1] == expected[-1]
    assert attached[1:] == expected[1:]
    with pytest.raises(IndexError):
        attached[2]


def test_listed_positions_are_a_lists_items_at_key() -> None:
    out: dict[str, Any] = {}

    listed = _Listed(None, out, "edges", FIELD, 3)

    expected = [(None, out, "edges", index, FIELD) for index in range(3)]
    assert len(listed) == 3
    assert list(listed) == expected
    assert listed[-1] == expected[2]
    assert listed[::2] == expected[::2]
    assert list(zip(listed, "abc", strict=True))[1] == (expected[1], "b")
    with pytest.raises(IndexError):
        listed[3]
