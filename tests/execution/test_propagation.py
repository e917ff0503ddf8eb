"""execution.propagation.report on hand-built responses: which errors are reported, in which
order, and which positions end up null, whatever order the errors are given in."""

from __future__ import annotations

from itertools import permutations
from typing import Any

from graphql import GraphQLError

from execution.propagation import Nulled, Path, report


def error(*path: str | int) -> GraphQLError:
    """A field error at `path`, named by it."""
    return GraphQLError("at " + ".".join(map(str, path)), path=list(path))


def nulling(failed: GraphQLError, at: Path | None) -> Nulled:
    return failed, at


def reported(
    data: dict[str, Any] | None, nulls: list[Nulled]
) -> tuple[dict[str, Any] | None, list[str]]:
    """`report`'s data and its errors' messages."""
    settled, errors = report(data, nulls)
    return settled, [e.message for e in errors]


def every_order(data: dict[str, Any], nulls: list[Nulled]) -> set[str]:
    """The answers for every order of the errors (each on a fresh copy of `data`), as text."""
    return {repr(reported(_copy(data), list(order))) for order in permutations(nulls, len(nulls))}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def test_no_errors_leave_data_as_is() -> None:
    data = {"a": 1}
    assert report(data, []) == (data, [])


def test_one_error_nulls_its_position() -> None:
    data = {"a": {"x": 1}, "b": 2}
    failed = error("a", "x")
    assert reported(data, [nulling(failed, ["a"])]) == ({"a": None, "b": 2}, ["at a.x"])


def test_nullable_siblings_are_both_reported_in_response_order() -> None:
    data: dict[str, Any] = {"p": {"x": None, "y": None}}
    nulls = [nulling(error("p", "y"), ["p", "y"]), nulling(error("p", "x"), ["p", "x"])]
    assert every_order(data, nulls) == {repr(({"p": {"x": None, "y": None}}, ["at p.x", "at p.y"]))}


def test_non_null_siblings_report_the_first_in_response_order() -> None:
    # As the fast engine calls it: nothing nulled yet, every object still there.
    data = {"a": 1, "p": {"x": {"deep": 1}, "y": 2, "z": 3}}
    nulls = [
        nulling(error("p", "z"), ["p"]),
        nulling(error("p", "x", "deep"), ["p"]),
        nulling(error("p", "y"), ["p"]),
    ]
    assert every_order(data, nulls) == {repr(({"a": 1, "p": None}, ["at p.x.deep"]))}


def test_errors_inside_a_nulled_subtree_are_not_reported() -> None:
    data = {"p": {"q": 1, "r": {"s": None, "t": [None]}}, "u": None}
    nulls = [
        nulling(error("p", "r", "s"), ["p", "r", "s"]),
        nulling(error("p", "r", "t", 0), ["p", "r"]),
        nulling(error("p", "q"), ["p"]),
        nulling(error("u"), ["u"]),
    ]
    assert every_order(data, nulls) == {repr(({"p": None, "u": None}, ["at p.q", "at u"]))}


def test_nullable_list_items_are_each_reported_in_index_order() -> None:
    data = {"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}
    nulls = [nulling(error("l", 10), ["l", 10]), nulling(error("l", 2), ["l", 2])]
    expected = {"l": [0, 1, None, 3, 4, 5, 6, 7, 8, 9, None]}
    assert every_order(data, nulls) == {repr((expected, ["at l.2", "at l.10"]))}


def test_non_null_list_items_report_the_first_by_index() -> None:
    data = {"l": [{"x": 0}, {"x": 1}, {"x": 2}], "m": 1}
    nulls = [
        nulling(error("l", 2, "x"), ["l"]),
        nulling(error("l", 1), ["l"]),
        nulling(error("l", 10), ["l"]),
    ]
    assert every_order(data, nulls) == {repr(({"l": None, "m": 1}, ["at l.1"]))}


def test_a_path_comes_before_the_paths_below_it() -> None:
    data = {"p": {"l": [{"x": 1}]}}
    nulls = [nulling(error("p", "l", 0, "x"), ["p"]), nulling(error("p", "l"), ["p"])]
    assert every_order(data, nulls) == {repr(({"p": None}, ["at p.l"]))}


def test_root_nulling_reports_only_the_first_root_error() -> None:
    data = {"a": {"x": 1}, "b": 1, "c": 2}
    nulls = [
        nulling(error("c"), None),
        nulling(error("a", "x"), ["a"]),
        nulling(error("b"), None),
    ]
    assert every_order(data, nulls) == {repr((None, ["at b"]))}


def test_the_root_as_graphql_core_leaves_it() -> None:
    # graphql-core has nulled `data` itself, and reports one error per nulled position.
    nulls = [nulling(error("a", "x"), ["a"]), nulling(error("b"), None)]
    assert every_order({}, nulls) == {repr((None, ["at b"]))}
    assert reported(None, [nulling(GraphQLError("nested too deeply"), None)]) == (
        None,
        ["nested too deeply"],
    )


def test_positions_already_null_stay_null() -> None:
    # graphql-core's path: each position nulled as it went, its ancestors all present.
    data = {"q": {"l": [None, {"y": None}]}, "p": None}
    nulls = [
        nulling(error("q", "l", 1, "y"), ["q", "l", 1, "y"]),
        nulling(error("p", "x"), ["p"]),
        nulling(error("q", "l", 0, "z"), ["q", "l", 0]),
    ]
    assert every_order(data, nulls) == {
        repr((data, ["at q.l.0.z", "at q.l.1.y", "at p.x"])),
    }


def test_keys_rank_by_their_order_in_the_response_not_by_name() -> None:
    data = {"zeta": {"b": 1, "a": 2}, "alpha": None}
    nulls = [
        nulling(error("alpha"), ["alpha"]),
        nulling(error("zeta", "a"), ["zeta"]),
        nulling(error("zeta", "b"), ["zeta"]),
    ]
    assert every_order(data, nulls) == {
        repr(({"zeta": None, "alpha": None}, ["at zeta.b", "at alpha"]))
    }
