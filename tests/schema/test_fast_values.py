"""Variables and arguments coerced without graphql-core (schema/fast/values.py): whenever
they answer, they answer what graphql-core's `get_variable_values` and `get_argument_values`
answer; they answer the usual requests; they leave the rest to graphql-core."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, get_argument_values
from graphql.execution.values import VariableValues, get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.build import build_schema
from schema.execution import prepare
from schema.fast.plan import FieldPlan, Plan, plan
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
    found = plan(SCHEMA, prepared.document, definition)
    assert found is not None
    return found


PLAN = planned(QUERY)


def graphql_cores(found: Plan, raw: dict[str, Any]) -> VariableValues | list[GraphQLError]:
    return get_variable_values(SCHEMA, found.operation.variable_definitions or (), raw, 50)


def same(quick: VariableValues, slow: VariableValues) -> None:
    assert quick.coerced == slow.coerced
    assert {
        n: (s.signature.name, str(s.signature.type), s.value) for n, s in quick.sources.items()
    } == {n: (s.signature.name, str(s.signature.type), s.value) for n, s in slow.sources.items()}


def loads(fields: tuple[FieldPlan, ...]) -> list[FieldPlan]:
    """The fields of a tree whose arguments read variables."""
    found = []
    for field in fields:
        if field.variable_field is not None:
            found.append(field)
        found += loads(field.selection or ())
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
    for tree in PLAN.trees.values():
        for field in loads(tree):
            assert field.variable_arguments is not None and field.variable_field is not None
            fast_arguments = field.variable_arguments.values(quick.coerced)
            try:
                expected = get_argument_values(field.variable_field, field.nodes[0], slow)
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
    [pins] = [f for f in loads(next(iter(PLAN.trees.values()))) if f.key == "pins"][:1]
    assert pins.variable_arguments is not None
    assert pins.variable_arguments.values(quick.coerced) == {
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
        assert all(f.variable_arguments is not None for t in found.trees.values() for f in loads(t))
