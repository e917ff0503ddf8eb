"""A selection's response objects built whole, by code compiled once per selection: one dict
display per object, its plain leaves read from the parent row and checked inline, its other
fields' values taken from their columns.

A plain leaf is `__typename`, or a String, ID, Boolean or Int (not a list) read as an
attribute of the row or computed from it (a global ID): its value is kept as it is when it
is what it serializes to (a `str`, a `bool`, an `int` in 32 bits; or null where the field
is nullable), which the display checks as it builds. Any other value makes the builder give
up (`Refused`, or the read's own error): the caller then completes the selection's columns
value by value, as graphql-core does, errors and all (execution/runner.py). A display costs
a fraction of what `dict(zip(keys, row))` over checked columns costs: Python builds a dict
display with constant keys in one step.

The source holds only the selection's response keys and attribute names (GraphQL names,
written with `repr`, or checked to be identifiers) and numbered names: no value of a request
ever reaches it.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from execution.leaves import INT_MAX, INT_MIN, LeafMode
from execution.sources import Kind, Source

_CHECKS = {
    LeafMode.STR: "type(v) is str",
    LeafMode.BOOL: "type(v) is bool",
    LeafMode.INT: f"type(v) is int and {INT_MIN} <= v <= {INT_MAX}",
}


class Built(Protocol):
    """What a builder needs of a field of the plan (execution.plan.Field)."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def source(self) -> Source: ...
    @property
    def read(self) -> Callable[[Any], Any] | None: ...
    @property
    def is_list(self) -> bool: ...
    @property
    def non_null(self) -> bool: ...
    @property
    def leaf_mode(self) -> int: ...
    @property
    def as_is(self) -> frozenset[type] | None: ...
    @property
    def type_name(self) -> str: ...
    @property
    def is_type_of(self) -> Callable[[Any, Any], bool] | None: ...
    @property
    def selection(self) -> Any: ...


class Refused(Exception):
    """A leaf value the display does not keep as it is."""


def _refuse() -> Any:
    raise Refused


@dataclass(frozen=True, slots=True)
class Builder:
    """`objects(parents, *columns)`: the objects of a batch (`columns`: the values of the
    fields not read inline, in selection order); `single(parent, columns)`: the object of a
    batch of one."""

    objects: Callable[..., list[dict[str, Any]]]
    single: Callable[..., dict[str, Any]]
    inline: tuple[bool, ...]
    """Whether each field of the selection is read inline (else it comes as a column)."""
    others: tuple[Any, ...]
    """The fields not read inline, in selection order."""
    each: int
    """The response objects one built object holds: itself and those inlined in it."""


def inline(field: Built) -> bool:
    """Whether the display reads `field` itself: a plain leaf, or a leaf-only object (see
    the module's docstring)."""
    if field.kind is Kind.TYPENAME:
        return True
    if field.is_list:
        return False
    if field.selection is not None:
        return _leaf_only(field)
    if field.leaf_mode not in _CHECKS or field.as_is is None:
        return False
    if field.kind is Kind.COMPUTED:
        return True
    return field.kind is Kind.ATTRIBUTE and _name(field.source.attribute)


def _leaf_only(field: Built) -> bool:
    """A non-null attribute holding an object of a type graphql-core checks nothing of (no
    `is_type_of`), whose selection is plain leaves only (a pin's image, a page's pageInfo):
    written inside its parent's display."""
    selection = field.selection
    return (
        field.kind is Kind.ATTRIBUTE
        and _name(field.source.attribute)
        and field.non_null
        and field.is_type_of is None
        and selection is not None
        and not selection.order
        and bool(selection.fields)
        and all(f.selection is None and inline(f) for f in selection.fields)
    )


def builder(fields: Sequence[Built], type_name: str) -> Builder:
    """The builder of objects of the type `type_name` with these fields, in this order (at
    least one)."""
    names: dict[str, Any] = {"refuse": _refuse, "type": type, "str": str, "bool": bool}
    names["int"] = int
    read = tuple(map(inline, fields))
    items: list[str] = []
    columns: list[str] = []
    for i, (field, here) in enumerate(zip(fields, read, strict=True)):
        if here:
            items.append(f"{field.key!r}: {_value(field, names, str(i), type_name, 'p')}")
        else:
            columns.append(f"o{i}")
            items.append(f"{field.key!r}: o{i}")
    display = "{" + ", ".join(items) + "}"
    given = ", ".join(f"c{name[1:]}" for name in columns)
    rows = f"(p, {', '.join(columns)},) in zip(parents, {given})" if columns else "p in parents"
    firsts = "".join(f"    {name} = columns[{n}][0]\n" for n, name in enumerate(columns))
    source = "\n".join(
        [
            f"def objects(parents, {given}):",
            f"    return [{display} for {rows}]",
            "def single(p, columns):",
            f"{firsts}    return {display}",
        ]
    )
    exec(compile(source, "<execution.builders>", "exec"), names)  # noqa: S102 (keys only)
    others = tuple(field for field, here in zip(fields, read, strict=True) if not here)
    each = 1 + sum(1 for field, here in zip(fields, read, strict=True) if here and field.selection)
    return Builder(names["objects"], names["single"], read, others, each)


def _value(field: Built, names: dict[str, Any], tag: str, type_name: str, row: str) -> str:
    """The expression of an inline field's value for the object `row` (of `type_name`)."""
    if field.kind is Kind.TYPENAME:
        return repr(field.type_name)
    selection = field.selection
    if selection is not None:  # a leaf-only object: its display, inside
        inner = f"q{tag}"
        nested = ", ".join(
            f"{f.key!r}: {_value(f, names, f'{tag}_{j}', selection.type_name, inner)}"
            for j, f in enumerate(selection.fields)
        )
        read = f"{row}.{field.source.attribute}"
        return f"({{{nested}}} if ({inner} := {read}) is not None else refuse())"
    return _checked(field, _read(field, names, tag, type_name, row))


def _read(field: Built, names: dict[str, Any], tag: str, type_name: str, row: str) -> str:
    """The expression of a leaf's value for the object `row` (of the type `type_name`)."""
    if field.kind is not Kind.COMPUTED:
        return f"{row}.{field.source.attribute}"
    computed = field.source.computed
    if computed is not None and computed.by is not None and _name(computed.attribute):
        names[f"f{tag}"] = computed.by(type_name)  # (see resolvers.fields.Computed.by)
        return f"f{tag}({row}.{computed.attribute})"
    names[f"f{tag}"] = field.read
    return f"f{tag}({row})"


def _name(attribute: str | None) -> bool:
    return attribute is not None and attribute.isidentifier() and not keyword.iskeyword(attribute)


def _checked(field: Built, read: str) -> str:
    """`read`, kept when it is what it serializes to, else `refuse()`."""
    check = _CHECKS[field.leaf_mode]
    if field.non_null:  # (the check starts with `type(v)`: `v` is assigned there)
        return f"(v if {check.replace('type(v)', f'type(v := {read})', 1)} else refuse())"
    return f"(v if (v := {read}) is None or {check} else refuse())"
