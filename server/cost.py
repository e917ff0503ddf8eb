"""Query cost: the objects a response holds (GitHub's node model, reported in Shopify's shape).

`requested_cost` is computed before execution: the most objects the response's `data`
could hold, plus MUTATION_FIELD_COST per mutation root field. Each field of object,
interface or union type counts one object per element it can produce, multiplied by the
elements of every list above it:

- a connection's `edges` and `nodes` produce up to the connection field's `first`;
- a list field with an `ids` argument (`Query.nodes`) produces one element per ID;
- any other list of objects counts as ONE element. This is an approximation: the schema
  bounds no such list, so `userErrors` with two errors, or introspection's `types`, hold
  more objects than requested.

Fields are merged as execution merges them (one response key, selected directly and
through fragments, is one field), `@skip`/`@include` follow the variables (unknown: the
field counts), and an interface or union costs its most expensive possible type. Variables
are read as graphql-core's executor coerces them (`first: 100.0` costs as 100).

A field may declare a surcharge (`metadata={"cost": n}` on its Strawberry field: the search
fields): it adds n each time the field runs, on top of its objects. `surcharges` names the
root fields that carry one, so that the actual cost charges it too.

`actual_cost` counts the objects the executed response's `data` holds, so that
`actual_cost(data) <= requested_cost(...)` whenever no list is longer than counted above,
with equality when every list is full and every nullable object is present.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    ValueNode,
    VariableNode,
    coerce_input_value,
    get_named_type,
    is_input_type,
    type_from_ast,
)
from graphql.pyutils import Undefined

from schema.metadata import SURCHARGE

MUTATION_FIELD_COST = 10
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
COST_CEILING = 2**53 - 1
"""Requested costs saturate here (any JSON reader takes it; every limit is far below)."""

FIELD, OBJECT = False, True
_Key = tuple[bool, str, tuple[int, ...], int | None]
"""A costing task: (kind, object type, ids of its field nodes, its connection's `first`)."""
_Task = tuple[GraphQLObjectType, list[FieldNode], int | None]


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> int:
    """The most objects `operation`'s response could hold, + 10 per mutation root field."""
    return requested_cost_of(schema, document, operation, variables or {})


def requested_cost_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> int:
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        return 0
    costing = _Costing(schema, document, operation, variables)
    root_fields = costing.collect(root_type, [operation.selection_set])
    total = costing.objects(root_type, root_fields)
    if operation.operation is OperationType.MUTATION:
        total += MUTATION_FIELD_COST * len(root_fields)
    return min(total, COST_CEILING)


def surcharge_of(field: GraphQLField) -> int:
    """The field's declared surcharge (`SURCHARGE` in its Strawberry metadata), else 0."""
    definition = field.extensions.get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    surcharge = metadata.get(SURCHARGE, 0)
    return surcharge if isinstance(surcharge, int) else 0


def surcharges(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> dict[str, int]:
    """The root fields of `operation` that carry a surcharge, by response key (fields under
    a false `@skip`/`@include` left out, as execution leaves them)."""
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        return {}
    costing = _Costing(schema, document, operation, variables or {})
    found = {}
    for key, nodes in costing.collect(root_type, [operation.selection_set]).items():
        field = costing.field(root_type, nodes[0].name.value)
        if field is not None and (surcharge := surcharge_of(field)):
            found[key] = surcharge
    return found


def actual_cost(data: Mapping[str, Any] | None, *, mutation: bool) -> int:
    """The objects the response `data` holds (not `data` itself), + 10 per mutation field."""
    # Runs on every response: no recursion, and exact type checks (data holds the dicts
    # and lists execution built; an isinstance(Mapping) per value would triple the time).
    if not data:
        return 0
    count = 0
    stack: list[Iterable[Any]] = [data.values()]
    for values in stack:  # grows while it is walked
        for value in values:
            kind = type(value)
            if kind is dict:
                count += 1
                stack.append(value.values())
            elif kind is list:
                stack.append(value)
    return count + (MUTATION_FIELD_COST * len(data) if mutation else 0)


def cost_error(requested: int, limit: int) -> GraphQLError:
    """The refusal of an operation whose requested cost is past PINQL_MAX_QUERY_COST."""
    return GraphQLError(
        f"the operation's requested cost is {requested}; the limit is {limit} "
        "(PINQL_MAX_QUERY_COST)",
        extensions={"code": MAX_COST_EXCEEDED, "requestedQueryCost": requested, "limit": limit},
    )


class _Costing:
    """One operation's costing: merges fields like execution, costs each group once.

    Two kinds of task, memoized by (kind, object type, field nodes, connection `first`):
    a field task is one response key of a parent object (its field nodes merged), an
    object task is what one object of a field's result selects. Tasks are evaluated with
    an explicit stack, not recursion: fragments can nest fields thousands of levels deep.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self.types = {
            d.variable.name.value: type_from_ast(schema, d.type)
            for d in operation.variable_definitions or ()
        }
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.tasks: dict[_Key, _Task] = {}
        self.plans: dict[_Key, tuple[int | None, list[_Key]]] = {}
        self.memo: dict[_Key, int] = {}
        self.surcharges: dict[_Key, int] = {}

    def objects(self, parent: GraphQLObjectType, fields: dict[str, list[FieldNode]]) -> int:
        """The objects below one `parent` object whose merged fields are `fields`."""
        return sum(
            self._evaluate(self._task(FIELD, parent, nodes, None)) for nodes in fields.values()
        )

    def _task(
        self, kind: bool, object_type: GraphQLObjectType, nodes: list[FieldNode], first: int | None
    ) -> _Key:
        key = (kind, object_type.name, tuple(map(id, nodes)), first)
        self.tasks.setdefault(key, (object_type, nodes, first))
        return key

    def _evaluate(self, root: _Key) -> int:
        stack = [root]
        while stack:
            key = stack[-1]
            if key in self.memo:
                stack.pop()
                continue
            plan = self.plans.get(key)
            if plan is None:
                plan = self.plans[key] = self._plan(key)
            missing = [dependency for dependency in plan[1] if dependency not in self.memo]
            if missing:
                stack += missing
                continue
            stack.pop()
            elements, dependencies = self.plans.pop(key)
            costs = [self.memo[dependency] for dependency in dependencies]
            if elements is None:  # an object task: its fields' sum
                self.memo[key] = sum(costs)
            else:  # a field task: its surcharge, its elements with their costliest type
                surcharge = self.surcharges.get(key, 0)
                self.memo[key] = surcharge + elements * (1 + max(costs, default=0))
        return self.memo[root]

    def _plan(self, key: _Key) -> tuple[int | None, list[_Key]]:
        """A task's dependencies, with the elements a field task multiplies them by (None
        for an object task; a field of scalar or enum type has no dependencies and 0)."""
        object_type, nodes, first = self.tasks[key]
        if key[0] is OBJECT:
            selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
            fields = self.collect(object_type, selection_sets)
            return None, [self._task(FIELD, object_type, group, first) for group in fields.values()]
        definition = self.field(object_type, nodes[0].name.value)
        if definition is not None and (surcharge := surcharge_of(definition)):
            self.surcharges[key] = surcharge
        named = None if definition is None else get_named_type(definition.type)
        possible: list[GraphQLObjectType]
        if isinstance(named, GraphQLObjectType):
            possible = [named]
        elif isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            possible = list(self.schema.get_possible_types(named))
        else:
            return 0, []
        assert definition is not None
        inner_first = self._first(definition, nodes[0])
        return self._elements(definition, nodes[0], first), [
            self._task(OBJECT, type_, nodes, inner_first) for type_ in possible
        ]

    def field(self, parent: GraphQLObjectType, name: str) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        field: GraphQLField | None = parent.fields.get(name)
        return field

    def _elements(self, definition: GraphQLField, node: FieldNode, first: int | None) -> int:
        """How many objects the field produces for one parent object."""
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if not isinstance(field_type, GraphQLList):
            return 1
        if "ids" in definition.args:
            ids = self._argument(node, "ids")
            if ids is Undefined or ids is None:
                return 0
            return len(ids) if isinstance(ids, list | tuple) else 1
        if first is not None and node.name.value in ("edges", "nodes"):
            return first
        return 1

    def _first(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The field's `first` argument (the connection's size), None if it takes none."""
        argument = definition.args.get("first")
        if argument is None:
            return None
        for value in (self._argument(node, "first"), argument.default_value):
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        return 0

    def _argument(self, node: FieldNode, name: str) -> Any:
        """An argument's value as written or passed (Undefined when absent)."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self._value(argument.value)
        return Undefined

    def _value(self, literal: ValueNode | None) -> Any:
        """A literal's value, variables replaced by their value or default; Undefined for
        a variable with neither. Only the kinds costing reads are decoded."""
        if literal is None:
            return Undefined
        if isinstance(literal, VariableNode):
            name = literal.name.value
            if name in self.variables:
                return self._coerced(name, self.variables[name])
            return self._value(self.defaults.get(name))
        if isinstance(literal, NullValueNode):
            return None
        if isinstance(literal, IntValueNode):
            return int(literal.value)
        if isinstance(literal, BooleanValueNode):
            return literal.value
        if isinstance(literal, ListValueNode):
            return [self._value(value) for value in literal.values]
        return literal

    def _coerced(self, name: str, value: Any) -> Any:
        """A variable's value as graphql-core's executor will take it (`100.0` for an Int is
        100, one ID for a list of IDs is a list of one), so no spelling of a value costs less
        than what runs; Undefined when it refuses the value (the request then runs nothing)."""
        variable_type = self.types.get(name)
        if variable_type is None or not is_input_type(variable_type):
            return Undefined  # (validation refuses such a document before costing)
        return coerce_input_value(value, variable_type)

    def _included(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode) -> bool:
        """@skip and @include with the variables; an unknown condition includes the node."""
        for directive in node.directives or ():
            name = directive.name.value
            if name in ("skip", "include"):
                condition = next(
                    (
                        self._value(a.value)
                        for a in directive.arguments or ()
                        if a.name.value == "if"
                    ),
                    None,
                )
                if condition is (name == "skip"):
                    return False
        return True

    def _applies(
        self, fragment: FragmentDefinitionNode | InlineFragmentNode, object_type: GraphQLObjectType
    ) -> bool:
        """Whether the fragment's type condition holds for `object_type`."""
        if fragment.type_condition is None:
            return True
        condition = self.schema.get_type(fragment.type_condition.name.value)
        if condition is object_type:
            return True
        return isinstance(
            condition, GraphQLInterfaceType | GraphQLUnionType
        ) and self.schema.is_sub_type(condition, object_type)

    def collect(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The fields `selection_sets` select on `object_type`, grouped by response key in
        execution order (graphql-core's collect_fields without @defer, and iterative)."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        stack: list[SelectionNode] = [
            selection
            for selection_set in reversed(selection_sets)
            for selection in reversed(selection_set.selections)
        ]
        while stack:
            selection = stack.pop()
            if isinstance(selection, FieldNode):
                if self._included(selection):
                    key = (selection.alias or selection.name).value
                    fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._included(selection) and self._applies(selection, object_type):
                    stack += reversed(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if (
                    name not in visited
                    and fragment is not None
                    and self._included(selection)
                    and self._applies(fragment, object_type)
                ):
                    visited.add(name)
                    stack += reversed(fragment.selection_set.selections)
        return fields
