"""Where the engine gets a schema field's value, read from the field's Strawberry definition,
so that it runs what graphql-core's path runs.

A field without a resolver reads the parent row's attribute (as Strawberry's default
resolver does); a field with one runs the declaration its resolver was made from
(resolvers/fields.py). A resolver made any other way, or anything Strawberry would wrap
around it (permissions, field extensions), leaves the field to graphql-core's path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any

from graphql import GraphQLField
from strawberry.types.field import StrawberryField

from resolvers.fields import Computed, Keyed, Loaded, declaration_of

STRAWBERRY_DEFINITION = "strawberry-definition"


class Kind(Enum):
    """Where a field's value comes from."""

    ATTRIBUTE = "attribute"
    """The parent row's attribute: a column, a page's edges, an edge's node..."""
    COMPUTED = "computed"
    """`fn(parent)`, synchronously: a global ID, a cursor."""
    KEYED = "keyed"
    """One loader's value for a key of the parent, asked for a whole batch of parents."""
    LOADED = "loaded"
    """`fn(loaders, parent, **arguments)`: a load, a value, or a coroutine over loads."""
    TYPENAME = "typename"
    """`__typename`: the parent's type name."""


@dataclass(frozen=True, slots=True)
class Source:
    """How to get one field's value from its parent."""

    kind: Kind
    read: Callable[[Any], Any] | None = None
    """ATTRIBUTE: the attribute getter; COMPUTED: the function."""
    keyed: Keyed[Any, Any, Any] | None = None
    """KEYED: the declaration."""
    load: Callable[..., Any] | None = None
    """LOADED: the plain function."""
    attribute: str = ""
    """ATTRIBUTE: the attribute's name."""
    computed: Computed[Any, Any] | None = None
    """COMPUTED: the declaration."""
    described: str = ""
    """What it is, for people (`pinql operations explain`)."""


def source_of(field: GraphQLField) -> Source | str:
    """How the engine gets `field`'s value; a reason when it cannot."""
    definition = field.extensions.get(STRAWBERRY_DEFINITION)
    if not isinstance(definition, StrawberryField):
        return "not a Strawberry field"
    if definition.extensions or definition.permission_classes:
        return "Strawberry wraps its resolver (extensions, permissions)"
    if definition.is_basic_field:
        name = definition.python_name
        read = attrgetter(name)
        return Source(Kind.ATTRIBUTE, read=read, described=f"attribute {name}", attribute=name)
    resolver = definition.base_resolver
    declaration = None if resolver is None else declaration_of(resolver.wrapped_func)  # type: ignore[arg-type]
    if declaration is None:
        return "its resolver is not declared in resolvers/ (resolvers/fields.py)"
    if isinstance(declaration, Keyed):
        return Source(Kind.KEYED, keyed=declaration, described="keyed load")
    if isinstance(declaration, Computed):
        return Source(
            Kind.COMPUTED,
            read=declaration.fn,
            described=_name(declaration.fn),
            computed=declaration,
        )
    assert isinstance(declaration, Loaded)
    # Arguments reach the plain function by GraphQL name: they must be the Python names.
    if {argument.python_name for argument in definition.arguments} != set(field.args):
        return "an argument's GraphQL name is not its Python name"
    return Source(Kind.LOADED, load=declaration.fn, described=_name(declaration.fn))


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
