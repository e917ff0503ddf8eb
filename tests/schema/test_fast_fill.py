"""The fast path's compiled leaves (schema/fast/fill.py): every leaf of a batch written in
key order, or nothing decided: False on any value graphql-core would not take as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from loaders.nodes import global_id_of
from loaders.rows import Image, PinRow
from schema.build import build_schema
from schema.execution import prepare
from schema.fast.fill import Filler
from schema.fast.plan import plan

QUERY = '{ pin(id: "UGluOjE") { __typename id title link image { url } createdAt saveCount } }'
WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def pin(**changes: Any) -> PinRow:
    row = PinRow(7, 1, 2, "Title", "", None, Image("u", 1, 2, "#fff"), None, WHEN)
    return row._replace(**changes)


@pytest.fixture(scope="module")
def filler() -> Filler:
    prepared = prepare(QUERY)
    operation = prepared.operation(None)
    assert prepared.document is not None and not isinstance(operation, Exception)
    planned = plan(build_schema()._schema, prepared.document, operation)
    assert planned is not None
    [root] = planned.trees.values()
    [pin_field] = root
    assert pin_field.selection is not None
    return planned.fillers[id(pin_field.selection)]


def test_leaves_are_written_in_order_with_the_other_fields_places_kept(filler: Filler) -> None:
    outs: list[dict[str, Any]] = [{}, {}]

    assert filler.fill([pin(), pin(id=8, link="https://x.test")], outs)

    assert list(outs[0]) == ["__typename", "id", "title", "link", "image", "createdAt", "saveCount"]
    assert outs[0] == {
        "__typename": "Pin",
        "id": "UGluOjc",
        "title": "Title",
        "link": None,
        "image": None,  # the executor completes it
        "createdAt": "2026-11-26T12:00:00+00:00",
        "saveCount": None,  # loaded later
    }
    assert outs[1]["link"] == "https://x.test"
    assert [f.key for f in filler.rest] == ["image", "saveCount"]


@pytest.mark.parametrize(
    "bad",
    [
        {"title": None},  # String!: an error, the executor's to report
        {"title": 42},  # serialized as "42" by graphql-core, not as it is
        {"created_at": "yesterday"},  # DateTime refuses it
        {"link": 3},
    ],
    ids=["null in non-null", "int for String", "bad DateTime", "int for nullable String"],
)
def test_anything_graphql_core_would_not_take_as_it_is_is_left_to_the_executor(
    filler: Filler, bad: dict[str, Any]
) -> None:
    assert not filler.fill([pin(), pin(**bad)], [{}, {}])


def test_ids_are_the_global_ids_of_the_rows(filler: Filler) -> None:
    outs: list[dict[str, Any]] = [{}, {}]

    assert filler.fill([pin(id=1), pin(id=2**63 - 1)], outs)

    assert [out["id"] for out in outs] == [global_id_of(pin(id=1)), global_id_of(pin(id=2**63 - 1))]


def test_a_row_that_is_no_node_is_left_to_the_executor(filler: Filler) -> None:
    class NotANode(PinRow):  # a row class global_id_of does not know
        __slots__ = ()

    assert not filler.fill([pin(), NotANode(*pin())], [{}, {}])


def test_build_makes_each_objects_dict_whole_in_key_order(filler: Filler) -> None:
    built = filler.build([pin(), pin(id=8, link="https://x.test")], PinRow)

    assert built is not None
    filled: list[dict[str, Any]] = [{}, {}]
    assert filler.fill([pin(), pin(id=8, link="https://x.test")], filled)
    for out in filled:  # `fill` leaves the image to the executor; `build` writes it inside
        out["image"] = {"url": "u"}
    assert built == filled
    assert [list(b) for b in built] == [list(f) for f in filled]  # the same key order
    assert [f.key for f in filler.build_rest] == ["saveCount"]
    assert filler.objects_each == 2  # the pin and its image


def test_build_refuses_an_image_it_would_not_take_as_it_is(filler: Filler) -> None:
    assert filler.build([pin(), pin(image=Image(None, 1, 2, "#fff"))], PinRow) is None  # type: ignore[arg-type]
    assert filler.build([pin(image=None)], PinRow) is None


@pytest.mark.parametrize(
    "bad",
    [{"title": None}, {"title": 42}, {"created_at": "yesterday"}, {"link": 3}],
    ids=["null in non-null", "int for String", "bad DateTime", "int for nullable String"],
)
def test_build_refuses_what_fill_refuses(filler: Filler, bad: dict[str, Any]) -> None:
    assert filler.build([pin(), pin(**bad)], PinRow) is None


def test_build_refuses_rows_of_a_class_that_is_no_node(filler: Filler) -> None:
    class NotANode(PinRow):
        __slots__ = ()

    assert filler.build([NotANode(*pin())], NotANode) is None
