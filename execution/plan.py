"""A query planned once: a plain tree of the selections and fields it runs, the same for every
request whatever its variables, with each field's source (execution/sources.py), arguments
(constant, or read from the variables per request), type and sub-selection.

`@include`/`@skip` are kept as conditions (execution/conditions.py, collect.py): a selection
lists every field it may have, and which it has, in which order, is decided per request
(`Selection.chosen`). Planning is bounded (execution/budget.py): a document over the budget,
or using anything the engine does not run, raises Unplannable and runs on graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_argument_values,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)

from execution.budget import Budget, Unplannable
from execution.builders import Builder
from execution.collect import Occurrence, collect
from execution.conditions import ALWAYS, OtherDirective, When, holds
from execution.leaves import kept_as_is, leaf_mode
from execution.sources import Kind, Source, source_of
from execution.values import Arguments, Variables

META_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """One response key of a selection: where its value comes from and how it completes."""

    key: str
    name: str
    parent_type: str
    occurrences: tuple[Occurrence, ...]
    """Every node that selects it, with its condition (error locations: those taken)."""
    source: Source
    kind: Kind
    """Where its value comes from (`source.kind`)."""
    read: Callable[[Any], Any] | None
    """ATTRIBUTE: the attribute getter; COMPUTED: the function (`source.read`)."""
    non_null: bool
    is_list: bool
    item_non_null: bool
    return_type: Any
    """The named type of its values."""
    leaf: GraphQLLeafType | None = None
    leaf_mode: int = 0
    as_is: frozenset[type] | None = None
    """A leaf (not a list): the types of values kept as they are (`set(map(type, column))`
    within it: no value to serialize or refuse); None: its `serialize`, value by value."""
    type_name: str = ""
    """TYPENAME: the parent's type name."""
    arguments: Mapping[str, Any] | None = None
    """LOADED: the arguments, when constant."""
    definition: GraphQLField | None = None
    """LOADED, with arguments read from variables: the field's definition."""
    quick: Arguments | None = None
    """LOADED, with `definition`: the arguments read without graphql-core when they are
    built-in scalars (execution/values.py)."""
    is_type_of: Callable[[Any, Any], bool] | None = None
    """An object type's row check (Strawberry's), or None."""
    accepted: set[type] | None = None
    """With `is_type_of`: the row classes it accepted so far, shared by every field of this
    name (each type's is_type_of checks the row's class, so its answer for a class holds);
    None: any row is of the type."""
    selection: Selection | None = None
    """An object type's fields."""
    selections: Mapping[str, Selection] | None = None
    """An interface's fields, by runtime type name."""
    runtime_types: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = ()
    """An interface's possible types (name, is_type_of), in the schema's order."""

    @property
    def null_message(self) -> str:
        """graphql-core's message for a null in this non-null field (or list item)."""
        return f"Cannot return null for non-nullable field {self.parent_type}.{self.name}."

    def nodes(self, values: Mapping[str, bool]) -> list[FieldNode]:
        """The nodes that select it under these condition values, each once, in order (what
        graphql-core locates its errors with)."""
        nodes: list[FieldNode] = []
        for occurrence in self.occurrences:
            node = occurrence.node
            if node not in nodes and holds(occurrence.when, values):
                nodes.append(node)
        return nodes


@dataclass(frozen=True, slots=True, eq=False)
class Selection:
    """The fields a document selects on one object type."""

    type_name: str
    fields: tuple[Field, ...]
    """Each response key once, in order of first occurrence (every condition holding)."""
    keys: tuple[str, ...]
    order: tuple[tuple[int, When], ...]
    """Every occurrence as (index in `fields`, condition), in collection order; empty when
    every condition always holds (then `fields` is what every request selects)."""
    compiled: Compiled
    """Its objects' builder (execution/builders.py), once it has been used enough."""

    def chosen(self, values: Mapping[str, bool]) -> tuple[tuple[Field, ...], tuple[str, ...]]:
        """The fields and keys selected under these condition values, in response order."""
        if not self.order:
            return self.fields, self.keys
        taken: dict[int, None] = {}
        for index, when in self.order:
            if index not in taken and holds(when, values):
                taken[index] = None
        fields = tuple(self.fields[index] for index in taken)
        return fields, tuple(field.key for field in fields)


class Compiled:
    """A selection's builder, compiled on its `COMPILE_AFTER`th use: a document sent once
    (most of a hostile stream) never costs a compilation, a hot one is compiled once. The
    one mutable part of a plan (a worker runs one request at a time between awaits)."""

    __slots__ = ("builder", "uses")

    def __init__(self) -> None:
        self.uses = 0
        self.builder: Builder | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """A planned query operation."""

    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    root: Selection
    conditions: frozenset[str]
    """The variables `@include`/`@skip` read."""
    variables: Variables | None
    """Its variables, coerced without graphql-core when they are built-in scalars."""
    size: int
    """Plan nodes it took (execution/budget.py)."""


def plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    budget: Budget | None = None,
    templates: Templates | None = None,
) -> Plan:
    """The plan of a query operation of a valid document; raises Unplannable when the engine
    does not run it. `templates`: the schema's, kept between plans (execution/cache.py)."""
    if operation.operation is not OperationType.QUERY or schema.query_type is None:
        raise Unplannable(operation.operation.value)
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                raise Unplannable("fragment_variables", definition.name.value)
            fragments[definition.name.value] = definition
    budget = budget or Budget()
    planner = _Planner(schema, fragments, budget, templates or Templates(schema))
    try:
        root = planner.selection(schema.query_type, [(operation.selection_set, ALWAYS)])
    except OtherDirective as directive:
        raise Unplannable("directive", directive.message) from None
    except RecursionError:
        raise Unplannable("depth") from None
    return Plan(
        schema,
        document,
        operation,
        root,
        frozenset(planner.conditions),
        Variables.of(schema, operation),
        budget.spent,
    )


class _Planner:
    """Plans the selections of one operation."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        budget: Budget,
        templates: Templates,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.budget = budget
        self.templates = templates
        self.conditions: set[str] = set()

    def selection(
        self, runtime: GraphQLObjectType, selection_sets: Sequence[tuple[SelectionSetNode, When]]
    ) -> Selection:
        found = collect(self.schema, self.fragments, runtime, selection_sets, self.budget)
        grouped: dict[str, list[Occurrence]] = {}
        for occurrence in found:
            grouped.setdefault(occurrence.key, []).append(occurrence)
            self.conditions.update(name for name, _value in occurrence.when)
        fields = tuple(self.field(runtime, key, tuple(group)) for key, group in grouped.items())
        index = {key: i for i, key in enumerate(grouped)}
        order = tuple((index[o.key], o.when) for o in found) if any(o.when for o in found) else ()
        return Selection(runtime.name, fields, tuple(grouped), order, Compiled())

    def field(
        self, parent: GraphQLObjectType, key: str, occurrences: tuple[Occurrence, ...]
    ) -> Field:
        self.budget.spend()
        node = occurrences[0].node
        template = self.templates.of(parent, node.name.value)
        source: Source = template["source"]
        extra: dict[str, Any] = {}
        if source.kind is Kind.LOADED:
            extra = _arguments(template["definition"], node)
        elif node.arguments:
            raise Unplannable("field", f"arguments of {parent.name}.{node.name.value}")
        named = template["return_type"]
        if isinstance(named, GraphQLObjectType):
            extra["selection"] = self.selection(named, _below(occurrences))
        elif template["leaf"] is None:
            selection_sets = _below(occurrences)
            extra["selections"] = MappingProxyType(
                {
                    name: self.selection(self.schema.get_type(name), selection_sets)  # type: ignore[arg-type]
                    for name, _is_type_of in template["runtime_types"]
                }
            )
        return Field(key=key, occurrences=occurrences, **{**template, **extra})


def _below(occurrences: tuple[Occurrence, ...]) -> list[tuple[SelectionSetNode, When]]:
    """The selection sets of a field's nodes, each under its node's condition."""
    return [(o.node.selection_set, o.when) for o in occurrences if o.node.selection_set]


class Templates:
    """What a plan's field takes from its schema field alone (its source, type, and how its
    values complete), found once per schema field: plans name the same fields over and
    over."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._found: dict[tuple[str, str], dict[str, Any] | Unplannable] = {}

    def of(self, parent: GraphQLObjectType, name: str) -> dict[str, Any]:
        """The template of `parent.name`: Field's arguments but for its key, nodes and what
        the document gives; raises Unplannable when the engine does not run the field."""
        key = (parent.name, name)
        found = self._found.get(key)
        if found is None:
            try:
                found = self._template(parent, name)
            except Unplannable as refused:
                found = refused
            self._found[key] = found
        if isinstance(found, Unplannable):
            raise found
        return found

    def _template(self, parent: GraphQLObjectType, name: str) -> dict[str, Any]:
        if name == "__typename":
            typename = Source(Kind.TYPENAME, described="__typename")
            template = _shape(parent.name, name, GraphQLNonNull(GraphQLString))
            return {**template, **_sourced(typename), "type_name": parent.name}
        if name in META_FIELDS:
            raise Unplannable("introspection")
        definition = parent.fields[name]  # (validation: it exists)
        source = source_of(definition)
        if isinstance(source, str):
            raise Unplannable("field", f"{parent.name}.{name}: {source}")
        template = {**_shape(parent.name, name, definition.type), **_sourced(source)}
        if source.kind is Kind.LOADED:
            template["definition"] = definition
        elif definition.args:
            raise Unplannable("field", f"arguments of {parent.name}.{name}")
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            template["is_type_of"] = named.is_type_of
            template["accepted"] = set() if named.is_type_of is not None else None
        elif not is_leaf_type(named):
            if not is_abstract_type(named):
                raise Unplannable("type", str(named))
            possible = self.schema.get_possible_types(named)
            if any(t.is_type_of is None for t in possible):
                raise Unplannable("type", f"{named} has a type without is_type_of")
            template["runtime_types"] = tuple((t.name, t.is_type_of) for t in possible)
        return template


def _sourced(source: Source) -> dict[str, Any]:
    return {"source": source, "kind": source.kind, "read": source.read}


def _shape(parent: str, name: str, type_: GraphQLOutputType) -> dict[str, Any]:
    """How a field's values complete: its type may be at most one list deep."""
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
            raise Unplannable("type", f"{parent}.{name}: nested lists")
    leaf = inner if is_leaf_type(inner) else None
    return {
        "name": name,
        "parent_type": parent,
        "non_null": non_null,
        "is_list": is_list,
        "item_non_null": item_non_null,
        "return_type": inner,
        "leaf": leaf,
        "leaf_mode": 0 if leaf is None else leaf_mode(leaf),
        "as_is": None if leaf is None or is_list else kept_as_is(leaf_mode(leaf), non_null),
    }


def _arguments(definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
    """A loaded field's arguments: coerced now when constant, else read per request (all
    nodes of a field have the same arguments: validation)."""
    if not _reads_variables(node):
        try:
            arguments = get_argument_values(definition, node)
        except GraphQLError as error:  # (validation refuses what would fail here)
            raise Unplannable("arguments", error.message) from None
        return {"arguments": MappingProxyType(arguments), "definition": None}
    return {"quick": Arguments.of(definition, node)}


def _reads_variables(node: FieldNode) -> bool:
    """Whether the field's arguments hold a variable."""
    return any(_holds_variable(argument.value) for argument in node.arguments or ())


def _holds_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(map(_holds_variable, value.values))
    if isinstance(value, ObjectValueNode):
        return any(_holds_variable(field.value) for field in value.fields)
    return False


__all__ = ["Field", "Plan", "Selection", "Unplannable", "plan"]
