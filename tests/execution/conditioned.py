"""Generated queries with `@include`/`@skip` at random places: hypothesis-graphql's queries from
schema.graphql, with conditions put on fields and on inline fragments wrapped around fields,
reading up to three Boolean variables (or constants), and the variables' values drawn too.
The differential tests run them on the engine and on graphql-core's path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import graphql
from graphql.language import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
)
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql_st

from tests.server.test_fuzz import SCALARS, SDL, lift

CONDITION_VARIABLES = ("c0", "c1", "c2")
Choice = tuple[str, str | bool] | None
"""What one selection gets: nothing, or (include / skip / wrap, a variable or a constant)."""
CHOICES: st.SearchStrategy[Choice] = st.one_of(
    st.none(),
    st.none(),
    st.tuples(
        st.sampled_from(["include", "skip", "wrap"]),
        st.one_of(st.sampled_from(CONDITION_VARIABLES), st.booleans()),
    ),
)


def _directive(kind: str, value: str | bool) -> DirectiveNode:
    if_value: Any = (
        VariableNode(name=NameNode(value=value))
        if isinstance(value, str)
        else BooleanValueNode(value=value)
    )
    name = "skip" if kind == "skip" else "include"
    return DirectiveNode(
        name=NameNode(value=name),
        arguments=(ArgumentNode(name=NameNode(value="if"), value=if_value),),
    )


class _Conditioner(graphql.Visitor):
    """Gives each field the next choice: a condition on it, or an inline fragment around
    it with the condition."""

    def __init__(self, choices: Iterator[Choice]) -> None:
        super().__init__()
        self.choices = choices

    def leave_field(self, node: FieldNode, *_: Any) -> Any:
        choice = next(self.choices, None)
        if choice is None:
            return None
        kind, value = choice
        directive = _directive(kind, value)
        if kind != "wrap":
            return FieldNode(
                alias=node.alias,
                name=node.name,
                arguments=node.arguments,
                directives=(*(node.directives or ()), directive),
                selection_set=node.selection_set,
            )
        return InlineFragmentNode(
            type_condition=None,
            directives=(directive,),
            selection_set=SelectionSetNode(selections=(node,)),
        )


def _fields(document: graphql.DocumentNode) -> int:
    counted = 0

    class Count(graphql.Visitor):
        def enter_field(self, *_: Any) -> None:
            nonlocal counted
            counted += 1

    graphql.visit(document, Count())
    return counted


@st.composite
def conditioned_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A generated query with conditions at random places, and its variables (the
    condition variables as Boolean!, each drawn true or false; its argument values lifted
    into variables half the time)."""
    document = draw(
        gql_st.queries(SDL, custom_scalars=SCALARS, print_ast=lambda document: document)
    )
    values: dict[str, Any] = {}
    if draw(st.booleans()):
        text, values = lift(document)
        document = graphql.parse(text)
    choices = draw(st.lists(CHOICES, min_size=_fields(document), max_size=_fields(document)))
    conditioned = graphql.visit(document, _Conditioner(iter(choices)))
    [operation] = conditioned.definitions
    assert isinstance(operation, OperationDefinitionNode)
    used = sorted({value for _kind, value in filter(None, choices) if isinstance(value, str)})
    booleans = tuple(
        VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=name)),
            type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="Boolean"))),
        )
        for name in used
    )
    operation = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=(*(operation.variable_definitions or ()), *booleans),
        directives=operation.directives,
        selection_set=operation.selection_set,
    )
    for name in used:
        values[name] = draw(st.booleans())
    return graphql.print_ast(graphql.DocumentNode(definitions=(operation,))), values
