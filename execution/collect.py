"""Collecting a selection's fields once for every value of its `@include`/`@skip` variables,
as graphql-core's `collect_fields` collects them for one set of values.

graphql-core walks a selection set depth first: fields in document order, inline fragments
and fragment spreads expanded in place when taken and when their type condition matches the
runtime type, a fragment expanded at most once per collection (a later spread of one already
taken is skipped). Here every selection is walked with its condition instead of its value
(execution/conditions.py): the result is every field node in walking order, each with the
condition under which graphql-core would reach it. For any values, the nodes whose
condition holds, first occurrences kept, in this order, are what graphql-core collects: a
later spread of a fragment adds only nodes an earlier taken spread already added, so it is
walked too unless an earlier spread is taken whenever it is (then it is skipped, as
graphql-core skips it). Each node counts against the planning budget (execution/budget.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.utilities import type_from_ast

from execution.budget import Budget
from execution.conditions import When, condition


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A field node of a selection and the condition under which it is collected."""

    key: str
    """Its response key: the alias, else the field's name."""
    node: FieldNode
    when: When


class _Walk:
    """One collection: the fields of one runtime type from some selection sets."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        runtime_type: GraphQLObjectType,
        budget: Budget,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.runtime_type = runtime_type
        self.budget = budget
        self.found: list[Occurrence] = []
        self.spread: dict[str, list[When]] = {}
        """The conditions of the spreads of each fragment walked so far."""

    def selection_set(self, selection_set: SelectionSetNode, outer: When) -> None:
        for selection in selection_set.selections:
            when = condition(selection, outer)
            if when is None:
                continue
            self.budget.spend()
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                self.found.append(Occurrence(key, selection, when))
            elif isinstance(selection, InlineFragmentNode):
                if self.matches(selection):
                    self.selection_set(selection.selection_set, when)
            elif isinstance(selection, FragmentSpreadNode):
                self.fragment_spread(selection.name.value, when)

    def fragment_spread(self, name: str, when: When) -> None:
        fragment = self.fragments.get(name)
        if fragment is None or not self.matches(fragment):
            return
        earlier = self.spread.setdefault(name, [])
        if any(taken <= when for taken in earlier):
            return  # an earlier spread is taken whenever this one is: graphql-core skips it
        earlier.append(when)
        self.selection_set(fragment.selection_set, when)

    def matches(self, fragment: InlineFragmentNode | FragmentDefinitionNode) -> bool:
        """Whether the fragment's type condition holds for the runtime type."""
        condition_node = fragment.type_condition
        if condition_node is None:
            return True
        conditional_type = type_from_ast(self.schema, condition_node)
        if conditional_type is self.runtime_type:
            return True
        if conditional_type is None or isinstance(conditional_type, GraphQLObjectType):
            return False
        return self.schema.is_sub_type(conditional_type, self.runtime_type)  # type: ignore[arg-type]


def collect(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    runtime_type: GraphQLObjectType,
    selection_sets: Sequence[tuple[SelectionSetNode, When]],
    budget: Budget,
) -> list[Occurrence]:
    """Every field node the selection sets select on `runtime_type`, in graphql-core's
    order, with its condition; each selection set taken under its own condition (the
    sub-selections of one merged field: one per node that selects it)."""
    walk = _Walk(schema, fragments, runtime_type, budget)
    for selection_set, when in selection_sets:
        walk.selection_set(selection_set, when)
    return walk.found
