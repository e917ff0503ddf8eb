"""`@include` and `@skip` as data: the condition under which a selection is taken, decided per
request from its variables, so a document is planned once whatever values they take.

A condition is a set of literals `(variable, value it must have)`, all of which must hold;
the empty set always holds. A constant `@skip(if: true)` or `@include(if: false)` makes a
selection never taken (None), and a selection whose literals contradict each other is never
taken either.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import BooleanValueNode, DirectiveNode, GraphQLError, SelectionNode, VariableNode

When = frozenset[tuple[str, bool]]
"""Literals `(variable, the value it must have)` that must all hold."""
ALWAYS: When = frozenset()
CONDITIONS = frozenset({"include", "skip"})


class OtherDirective(GraphQLError):
    """A directive on a selection other than `@include`/`@skip`."""


def condition(selection: SelectionNode, outer: When) -> When | None:
    """The condition under which `selection` is taken, inside a selection taken under
    `outer`; None when it is never taken. Raises OtherDirective for any other directive."""
    when = outer
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in CONDITIONS:
            raise OtherDirective(f"directive @{name}")
        value = _if(directive)
        taken_when = name == "include"  # @include(if: x) is taken when x; @skip(if: x): not x
        if isinstance(value, bool):
            if value != taken_when:
                return None
            continue
        if (value, not taken_when) in when:
            return None  # `$x` must be both true and false
        when = when | {(value, taken_when)}
    return when


def _if(directive: DirectiveNode) -> bool | str:
    """The `if` of a condition: a constant, or the name of the variable it reads."""
    (argument,) = directive.arguments or ()  # validation: exactly `if`
    value = argument.value
    if isinstance(value, BooleanValueNode):
        return value.value
    if isinstance(value, VariableNode):
        return value.name.value
    raise OtherDirective(f"@{directive.name.value} with a {value.kind}")  # (validation refuses it)


def holds(when: When, values: Mapping[str, bool]) -> bool:
    """Whether every literal of `when` holds for the request's condition values."""
    return all(values[name] is value for name, value in when)
