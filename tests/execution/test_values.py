"""Variables and arguments coerced without graphql-core (execution/values.py): whenever
they answer, they answer what graphql-core's `get_variable_values` and `get_argument_values`
answer; they answer the usual requests; they leave the rest to graphql-core."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, get_argument_values
from graphql.execution.values import VariableValues, get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.documents import prepare
from execution.plan import Field, Plan, Selection, plan
from schema.build import build_schema
from tests.schema.demo import operation

SCHEMA = build_schema()._schema
QUERY = """
query Q($id: ID!, $name: String!, $n: Int = 5, $m: Int!, $flag: Boolean!, $after: String,
        $big: Int = 7) {
  board(id: $id) {
    name @include(if: $flag)
    pins(first: $n, after: $after) { totalCount }
  }
  user(username: $name) {
    pins(first: $m) { totalCount }
    boards(after: $after) { totalCount }
    followers(first: $big, after: "Y3Vyc29yOjU") { totalCount }
  }
}
"""
NAMES = ["id", "name", "n", "m", "flag", "after", "big", "extra"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**33), max_value=2**33),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 0, 1]),
    st.text(max_size=3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
)


def planned(text: str) -> Plan:
    prepared = prepare(text)
    definition = prepared.operation(None)
    assert prepared.valid and not isinstance(definition, GraphQLError), prepared.errors
    assert prepared.document is not None
    return plan(SCHEMA, prepared.document, definition)


PLAN = planned(QUERY)


def graphql_cores(found: Plan, raw: dict[str, Any]) -> VariableValues | list[GraphQLError]:
    return get_variable_values(SCHEMA, found.operation.variable_definitions or (), raw, 50)


def same(quick: VariableValues, slow: VariableValues) -> None:
    assert quick.coerced == slow.coerced
    assert {
        n: (s.signature.name, str(s.signature.type), s.value) for n, s in quick.sources.items()
    } == {n: (s.signature.name, str(s.signature.type), s.value) for n, s in slow.sources.items()}


def loads(selection: Selection | None) -> list[Field]:
    """The fields of a plan's selection, and those below, whose arguments read variables."""
    found: list[Field] = []
    for field in selection.fields if selection is not None else ():
        if field.definition is not None:
            found.append(field)
        found += loads(field.selection)
    return found


TEXT = st.text(max_size=3)
INT = st.integers(min_value=-(2**31), max_value=2**31 - 1)
VALID = {"id": TEXT, "name": TEXT, "n": INT, "m": INT, "flag": st.booleans(), "after": TEXT}


@st.composite
def variables(draw: st.DrawFn) -> dict[str, Any]:
    """Each variable absent, valid (most often: so that most inputs are coerced without
    graphql-core) or anything."""
    raw = {}
    for name in NAMES:
        way = draw(st.sampled_from(["valid"] * 8 + ["absent", "null", "any"]))
        if way == "valid" and name in VALID:
            raw[name] = draw(VALID[name])
        elif way == "null":
            raw[name] = None
        elif way == "any":
            raw[name] = draw(VALUES)
    return raw


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(raw=variables())
def test_variables_and_arguments_answer_as_graphql_core(raw: dict[str, Any]) -> None:
    assert PLAN.variables is not None
    quick = PLAN.variables.coerce(raw)
    slow = graphql_cores(PLAN, raw)
    if quick is None:
        return
    assert isinstance(slow, VariableValues), slow  # never an answer where graphql-core errs
    same(quick, slow)
    for field in loads(PLAN.root):
        assert field.quick is not None and field.definition is not None
        fast_arguments = field.quick.values(quick.coerced)
        try:
            expected = get_argument_values(field.definition, field.occurrences[0].node, slow)
        except GraphQLError:
            assert fast_arguments is None
            continue
        if fast_arguments is not None:
            assert fast_arguments == expected


@pytest.mark.parametrize(
    ("raw", "coerced"),
    [
        ({"id": "Qm9hcmQ6MQ", "name": "olive", "m": 3, "flag": True}, {"n": 5, "big": 7}),
        (
            {"id": "x", "name": "", "m": 0, "flag": False, "n": None, "after": "c"},
            {"n": None, "after": "c", "big": 7},
        ),
    ],
)
def test_the_usual_variables_are_coerced_without_graphql_core(
    raw: dict[str, Any], coerced: dict[str, Any]
) -> None:
    assert PLAN.variables is not None
    quick = PLAN.variables.coerce(raw)
    assert quick is not None
    assert quick.coerced == {**{k: v for k, v in raw.items() if k not in ("n", "after")}, **coerced}
    [pins] = [f for f in loads(PLAN.root) if f.key == "pins"][:1]
    assert pins.quick is not None
    assert pins.quick.values(quick.coerced) == {
        "first": coerced["n"],
        "after": coerced.get("after"),
    }


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "olive", "m": 3, "flag": True},  # $id missing
        {"id": 7, "name": "olive", "m": 3, "flag": True},  # an int ID: converted to "7"
        {"id": "x", "name": "olive", "m": 2**31, "flag": True},  # out of Int's range
        {"id": "x", "name": "olive", "m": True, "flag": True},  # a bool for an Int
        {"id": "x", "name": "olive", "m": 3.0, "flag": True},  # a float for an Int
        {"id": "x", "name": None, "m": 3, "flag": True},  # a null for a String!
    ],
)
def test_values_to_convert_or_refuse_are_left_to_graphql_core(raw: dict[str, Any]) -> None:
    assert PLAN.variables is not None
    assert PLAN.variables.coerce(raw) is None


def test_an_input_or_list_variable_is_left_to_graphql_core() -> None:
    assert planned(operation("NodeLookup.graphql")).variables is None  # [ID!]!


def test_the_operations_variables_are_coerced_without_graphql_core() -> None:
    for name in ("BoardPage.graphql", "HomeFeed.graphql", "PinCloseUp.graphql"):
        found = planned(operation(name))
        assert found.variables is not None
        assert all(f.quick is not None for f in loads(found.root))
