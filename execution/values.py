"""A planned operation's variables and arguments coerced in the usual case without
graphql-core's per-request work: the type of each variable, its default and each argument's
default are looked up once, when the operation is planned.

`Variables.coerce` takes variables of built-in scalar types (String, ID, Int, Boolean,
nullable or not) whose values are already what they coerce to (a str for String and ID, an
int in 32 bits for Int, a bool for Boolean, a null where allowed, or absent), and answers
what `graphql.execution.values.get_variable_values` answers for them. `Arguments.values`
does the same for a field's arguments read from such variables. Anything else (a value
to convert, an error to report, a list or input type) answers None, and graphql-core
coerces it, errors and all. tests/schema/test_fast_values.py compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    coerce_input_literal,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import VariableValues, VariableValueSource, maybe_use_default_value
from graphql.language import FieldNode

from execution.leaves import INT_MAX, INT_MIN

_AS_IS = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLInt: int}
"""The built-in scalars whose value coerces to itself when it is of this Python type."""


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    signature: GraphQLVariableSignature
    as_is: type
    non_null: bool
    default: Any
    """The coerced default value, or Undefined (none)."""


class _DefaultRefused(Exception):
    pass


def _refuse(_error: GraphQLError, _path: list[str | int]) -> None:
    raise _DefaultRefused


def _default(input_value: Any) -> Any:
    """What graphql-core uses when a value is absent: the coerced default, or Undefined;
    raises _DefaultRefused when coercing it reports an error."""
    found: dict[str, Any] = {}
    maybe_use_default_value(found, "value", input_value, _refuse)
    return found.get("value", Undefined)


def _scalar(type_: Any) -> tuple[type, bool] | None:
    """(the Python type its values coerce as, non-null) for a built-in scalar type, else
    None."""
    non_null = isinstance(type_, GraphQLNonNull)
    named = type_.of_type if non_null else type_
    as_is = _AS_IS.get(named)
    return None if as_is is None else (as_is, non_null)


@dataclass(frozen=True, slots=True)
class Variables:
    """An operation's variables, coerced without graphql-core when their values are as
    they are."""

    variables: tuple[_Variable, ...]

    @classmethod
    def of(cls, schema: GraphQLSchema, operation: OperationDefinitionNode) -> Variables | None:
        """Its variables; None when one is not of a built-in scalar type (or its default
        does not coerce): graphql-core coerces them all."""
        found = []
        for node in operation.variable_definitions or ():
            signature = get_variable_signature(schema, node)
            if isinstance(signature, GraphQLError):
                return None
            scalar = _scalar(signature.type)
            if scalar is None:
                return None
            try:
                default = _default(signature) if node.default_value else Undefined
            except _DefaultRefused:
                return None
            found.append(_Variable(signature.name, signature, *scalar, default))
        return cls(tuple(found))

    def coerce(self, raw: Mapping[str, Any]) -> VariableValues | None:
        """What `get_variable_values` answers for these inputs; None when a value would
        need converting or gives an error: graphql-core must coerce them."""
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for variable in self.variables:
            name = variable.name
            value = raw.get(name, Undefined)
            if value is Undefined:
                sources[name] = VariableValueSource(variable.signature)
                if variable.default is not Undefined:
                    coerced[name] = variable.default
                elif variable.non_null:
                    return None  # "of required type ... was not provided"
                continue
            sources[name] = VariableValueSource(variable.signature, value)
            if value is None:
                if variable.non_null:
                    return None  # "of non-null type ... must not be null"
            elif type(value) is not variable.as_is or (
                type(value) is int and not INT_MIN <= value <= INT_MAX
            ):
                return None  # converted (an int ID) or refused
            coerced[name] = value
        return VariableValues(sources, coerced)


@dataclass(frozen=True, slots=True)
class _Argument:
    name: str
    variable: str | None
    """The variable its node reads; None: no node, or a constant."""
    value: Any
    """A constant node's coerced value, or the default (Undefined: none) for no node or an
    absent variable."""
    constant: bool
    non_null: bool


@dataclass(frozen=True, slots=True)
class Arguments:
    """A field's arguments, read from the operation's variables without graphql-core."""

    arguments: tuple[_Argument, ...]

    @classmethod
    def of(cls, field: GraphQLField, node: FieldNode) -> Arguments | None:
        """The field's arguments as `node` gives them; None when one is not of a built-in
        scalar type, or its value or default does not coerce without variables."""
        given = {argument.name.value: argument for argument in node.arguments or ()}
        found = []
        for name, definition in field.args.items():
            scalar = _scalar(definition.type)
            if scalar is None or definition.out_name not in (None, name):
                return None
            try:
                default = _default(definition)
            except _DefaultRefused:
                return None
            argument = given.get(name)
            node_value = None if argument is None else argument.value
            if node_value is None or isinstance(node_value, VariableNode):
                variable = None if node_value is None else node_value.name.value
                found.append(_Argument(name, variable, default, False, scalar[1]))
                continue
            value = coerce_input_literal(node_value, definition.type)
            if value is Undefined:
                return None
            found.append(_Argument(name, None, value, True, scalar[1]))
        return cls(tuple(found))

    def values(self, coerced: Mapping[str, Any]) -> dict[str, Any] | None:
        """What `get_argument_values` answers with these coerced variables; None when it
        would raise (a null for a non-null argument, a required one missing)."""
        values: dict[str, Any] = {}
        for argument in self.arguments:
            if argument.constant:
                values[argument.name] = argument.value
                continue
            variable = argument.variable
            if variable is not None and variable in coerced:
                value = coerced[variable]
                if value is None and argument.non_null:
                    return None
                values[argument.name] = value
            elif argument.value is not Undefined:
                values[argument.name] = argument.value
            elif argument.non_null:
                return None
        return values
