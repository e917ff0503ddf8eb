"""Planning a query once: the tree of fields it selects, as graphql-core would collect them.

`plan` collects the operation's fields with graphql-core's own `collect_fields` (so
fragments, inline fragments on interfaces, aliases, merging and response order are
GraphQL's), once per combination of the booleans its `@include`/`@skip` variables can take,
and notes for each field where its value comes from (schema/fast/fields.py), its arguments
(constant, or read from the request's variables), its type and its sub-selection (one per
runtime type under an interface). A plan is immutable and shared between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import product
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    get_argument_values,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.language import Visitor, visit

from resolvers.keyed import ByKey
from schema.fast.fields import Kind, source_of

if TYPE_CHECKING:
    from schema.fast.compiled import Compiled
    from schema.fast.fill import Filler
    from schema.fast.values import Arguments, Variables

MAX_CONDITIONS = 4
"""At most this many variables in `@include`/`@skip` (2**4 trees); more: not planned."""
CONDITIONS = frozenset({"include", "skip"})
META_FIELDS = frozenset({"__schema", "__type"})


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""GraphQL's Int: 32 bits, signed."""


class LeafMode:
    """How a leaf value is serialized: as it is when its type matches, else as graphql-core
    does (`complete_leaf_value`)."""

    AS_IS = 0
    """String, ID, Boolean: the value itself when it is a str (bool)."""
    INT = 1
    """Int: the value itself when it is an int in the 32-bit range."""
    GENERIC = 2
    """DateTime, enums...: the type's `coerce_output_value`."""


@dataclass(frozen=True, slots=True, eq=False)
class FieldPlan:
    """One response key of a selection: where its value comes from and how it completes."""

    key: str
    name: str
    parent_type: str
    nodes: tuple[FieldNode, ...]
    """The merged field nodes (error locations), in collection order."""
    kind: Kind
    non_null: bool
    is_list: bool
    item_non_null: bool
    leaf: GraphQLLeafType | None
    leaf_mode: int
    leaf_type: type | None
    """AS_IS: the Python type that serializes as itself."""
    attribute: str = ""
    """ATTRIBUTE: the row attribute; TYPENAME: the type name."""
    fn: Any = None
    """ROOT and LOAD: the function (resolvers/)."""
    by_key: ByKey | None = None
    """LOAD: what `fn` loads, when it is one loader's value for a column of the parent: the
    executor asks for all the parents' keys at once."""
    arguments: Mapping[str, Any] | None = None
    """LOAD: the coerced arguments when they hold no variable."""
    variable_field: GraphQLField | None = None
    """LOAD: the field definition when its arguments read variables (coerced per request)."""
    variable_arguments: Arguments | None = None
    """LOAD, with `variable_field`: its arguments read without graphql-core when they are
    built-in scalars (schema/fast/values.py)."""
    is_type_of: Any = None
    """The object type's `is_type_of` (Strawberry's row check), or None."""
    selection: tuple[FieldPlan, ...] | None = None
    """An object type's fields."""
    selections: Mapping[str, tuple[FieldPlan, ...]] | None = None
    """An interface's fields per runtime type name."""
    runtime_types: tuple[tuple[str, Any], ...] = ()
    """An interface's possible types (name, is_type_of), in the schema's order."""

    @property
    def null_message(self) -> str:
        """graphql-core's message for a null in this non-null field (or list item)."""
        return f"Cannot return null for non-nullable field {self.parent_type}.{self.name}."

    def replace(self, **changes: Any) -> FieldPlan:
        """A copy with `changes`."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """A planned query operation: its field trees, one per value of its conditions."""

    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    conditions: tuple[str, ...]
    """The variables `@include`/`@skip` read, in the order of the `trees` keys."""
    trees: Mapping[tuple[bool, ...], tuple[FieldPlan, ...]]
    """The root selection for each combination of the conditions' values."""
    fillers: Mapping[int, Filler] = field(default_factory=dict)
    """Its selections' compiled leaves (schema/fast/fill.py), by the selection's id."""
    variables: Variables | None = None
    """Its variables, coerced without graphql-core when they are built-in scalars
    (schema/fast/values.py)."""
    compiled: Mapping[int, Compiled] = field(default_factory=dict)
    """Its trees' compiled functions (schema/fast/compiled.py), by the tree's id; a tree
    the compiler does not handle has none."""

    def root(self, variables: Mapping[str, Any]) -> tuple[FieldPlan, ...] | None:
        """The root selection for these coerced variables; None when a condition variable
        is not a boolean (graphql-core answers that with an error: the normal path runs)."""
        values = tuple(variables.get(name) for name in self.conditions)
        if not all(type(value) is bool for value in values):
            return None
        return self.trees.get(cast(tuple[bool, ...], values))


class _Unplannable(Exception):
    """Something the fast path does not do: the operation runs on the normal path."""


def plan(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> Plan | None:
    """The plan of a query operation of a valid document; None when it cannot be planned
    (mutations, subscriptions, introspection, anything the fast path does not do)."""
    if operation.operation is not OperationType.QUERY or schema.query_type is None:
        return None
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None  # experimental fragment variables
            fragments[definition.name.value] = FragmentDetails(definition)
    conditions = _conditions(operation, fragments)
    if conditions is None:
        return None
    trees: dict[tuple[bool, ...], tuple[FieldPlan, ...]] = {}
    try:
        for values in product((False, True), repeat=len(conditions)):
            planner = _Planner(
                schema, fragments, operation, dict(zip(conditions, values, strict=True))
            )
            trees[values] = planner.root()
    except (_Unplannable, GraphQLError, RecursionError):
        return None
    # (fill.py, compiled.py and values.py read this module)
    from schema.fast.compiled import compile_tree
    from schema.fast.fill import fillers
    from schema.fast.values import Variables

    compiled = {id(tree): compile_tree(tree) for tree in trees.values()}
    return Plan(
        schema,
        document,
        operation,
        conditions,
        MappingProxyType(trees),
        MappingProxyType(fillers(trees.values())),
        Variables.of(schema, operation),
        MappingProxyType({k: c for k, c in compiled.items() if c is not None}),
    )


class _ConditionFinder(Visitor):
    """Collects the variables of `@include`/`@skip`; notes any other directive."""

    def __init__(self) -> None:
        super().__init__()
        self.variables: dict[str, None] = {}
        self.other = False

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value not in CONDITIONS:
            self.other = True
            return
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                self.variables[argument.value.name.value] = None
            elif not isinstance(argument.value, BooleanValueNode):
                self.other = True


def _conditions(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> tuple[str, ...] | None:
    """The variables the operation's conditions read; None if they are too many, or if it
    uses any other directive."""
    finder = _ConditionFinder()
    visit(operation, finder)
    for fragment in fragments.values():
        visit(fragment.definition, finder)
    if finder.other or len(finder.variables) > MAX_CONDITIONS:
        return None
    return tuple(finder.variables)


class _Planner:
    """Plans the fields of one operation for one set of condition values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        operation: OperationDefinitionNode,
        conditions: dict[str, bool],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.operation = operation
        self.variables = VariableValues({}, conditions)

    def root(self) -> tuple[FieldPlan, ...]:
        query = self.schema.query_type
        assert query is not None
        collected = collect_fields(
            self.schema, self.fragments, self.variables, query, self.operation
        )
        if collected.new_defer_usages:
            raise _Unplannable("@defer")
        return self.fields(query, collected.grouped_field_set)

    def fields(
        self, parent: GraphQLObjectType, grouped: Mapping[str, list[FieldDetails]]
    ) -> tuple[FieldPlan, ...]:
        return tuple(self.field(parent, key, details) for key, details in grouped.items())

    def subfields(
        self, runtime: GraphQLObjectType, details: list[FieldDetails]
    ) -> tuple[FieldPlan, ...]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, runtime, details
        )
        if collected.new_defer_usages:
            raise _Unplannable("@defer")
        return self.fields(runtime, collected.grouped_field_set)

    def field(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> FieldPlan:
        first = details[0].node
        name = first.name.value
        nodes = tuple(d.node for d in details)
        if name == "__typename":
            return _plan(
                key, name, parent.name, nodes, Kind.TYPENAME, GraphQLNonNull(GraphQLString)
            ).replace(attribute=parent.name)
        if name in META_FIELDS:
            raise _Unplannable("introspection")
        field = parent.fields.get(name)
        source = None if field is None else source_of(field)
        if field is None or source is None:
            raise _Unplannable(f"{parent.name}.{name}")
        arguments: Mapping[str, Any] | None = None
        variable_field: GraphQLField | None = None
        variable_arguments = None
        if source.kind is Kind.LOAD:
            if _reads_variables(first):
                from schema.fast.values import Arguments  # (values.py reads this module)

                variable_field = field
                variable_arguments = Arguments.of(field, first)
            else:
                arguments = MappingProxyType(get_argument_values(field, first))
        elif field.args or first.arguments:
            raise _Unplannable(f"arguments of {parent.name}.{name}")
        plain = _plan(key, name, parent.name, nodes, source.kind, field.type).replace(
            attribute=source.name,
            fn=source.fn,
            by_key=source.by_key,
            arguments=arguments,
            variable_field=variable_field,
            variable_arguments=variable_arguments,
        )
        named = _named(field.type)
        if is_leaf_type(named):
            return plain
        if is_object_type(named):
            assert isinstance(named, GraphQLObjectType)
            return plain.replace(
                is_type_of=named.is_type_of, selection=self.subfields(named, details)
            )
        if is_abstract_type(named):
            possible = self.schema.get_possible_types(named)
            selections = {t.name: self.subfields(t, details) for t in possible}
            runtime_types = tuple((t.name, t.is_type_of) for t in possible)
            if any(is_type_of is None for _, is_type_of in runtime_types):
                raise _Unplannable(f"{named} without is_type_of")
            return plain.replace(
                selections=MappingProxyType(selections), runtime_types=runtime_types
            )
        raise _Unplannable(f"type {named}")


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _plan(
    key: str,
    name: str,
    parent: str,
    nodes: tuple[FieldNode, ...],
    kind: Kind,
    type_: GraphQLOutputType,
) -> FieldPlan:
    """A field's plan, without its source details and sub-selection; its type may be at
    most one list deep."""
    non_null = isinstance(type_, GraphQLNonNull)
    inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    is_list = isinstance(inner, GraphQLList)
    item_non_null = False
    if is_list:
        inner = inner.of_type
        item_non_null = isinstance(inner, GraphQLNonNull)
        if item_non_null:
            inner = inner.of_type
        if isinstance(inner, GraphQLList):
            raise _Unplannable("nested lists")
    leaf = inner if is_leaf_type(inner) else None
    mode: int = LeafMode.GENERIC
    leaf_type: type | None = None
    if leaf is GraphQLString or leaf is GraphQLID:
        mode, leaf_type = LeafMode.AS_IS, str
    elif leaf is GraphQLBoolean:
        mode, leaf_type = LeafMode.AS_IS, bool
    elif leaf is GraphQLInt:
        mode = LeafMode.INT
    return FieldPlan(
        key=key,
        name=name,
        parent_type=parent,
        nodes=nodes,
        kind=kind,
        non_null=non_null,
        is_list=is_list,
        item_non_null=item_non_null,
        leaf=leaf,
        leaf_mode=mode,
        leaf_type=leaf_type,
    )


class _VariableFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_variable(self, node: VariableNode, *_: object) -> object:
        self.found = True
        return self.BREAK


def _reads_variables(node: FieldNode) -> bool:
    """Whether the field's arguments hold a variable (graphql-core reads the first node's)."""
    finder = _VariableFinder()
    for argument in node.arguments or ():
        visit(argument, finder)
    return finder.found
