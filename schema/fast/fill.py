"""A selection's leaf fields compiled, two ways, for a batch of objects in a single pass
where the executor would loop over the batch once per field:

- `build(parents, cls)` makes each object's dict whole, as one dict display: every leaf it
  selects, and a placeholder for each other field (GraphQL's key order). The executor
  completes an object field this way, then runs the other fields (`_Runner.build`).
- `fill(parents, outs)` writes the same keys into dicts made already (the root, a field of
  an abstract type).

Both only write values checked as graphql-core would accept them as they are (a `str` for
String and ID, an `int` in 32 bits for Int, anything else through the leaf type's own
serialization); on anything else (a null in a non-null field, a value of the wrong type, an
exception) they stop and answer None (False), and the executor completes the selection field
by field as before, errors and all, writing the same keys in the same order.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql.execution import Executor

from loaders.global_ids import encode_global_id
from loaders.nodes import NODE_TYPE_NAMES, global_id_of
from schema.fast.fields import Kind
from schema.fast.plan import INT_MAX, INT_MIN, FieldPlan, LeafMode

Fill = Callable[[list[Any], list[dict[str, Any]]], bool]
Build = Callable[[list[Any], type], list[dict[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class Filler:
    """A selection's leaves written in one pass (`build`, `fill`), and the fields left to
    the executor (`rest`, in selection order)."""

    fill: Fill
    build: Build
    rest: tuple[FieldPlan, ...]
    build_rest: tuple[FieldPlan, ...]
    """The fields `build` leaves to the executor: `rest` but the objects it writes inside
    (a pin's `image`)."""
    objects_each: int
    """The objects `build` makes for each parent: its own, and those inside."""


def fillers(trees: Iterable[tuple[FieldPlan, ...]]) -> dict[int, Filler]:
    """The filler of every selection of a plan's trees with a leaf to fill, by the
    selection's id (the plan keeps its selections alive, so their ids stay theirs)."""
    found: dict[int, Filler] = {}
    for root in trees:
        _walk(root, found)
    return found


def _walk(selection: tuple[FieldPlan, ...], found: dict[int, Filler]) -> None:
    if id(selection) in found:
        return
    filler = compile_filler(selection)
    if filler is not None:
        found[id(selection)] = filler
    for field in selection:
        if field.selection is not None:
            _walk(field.selection, found)
        for nested in (field.selections or {}).values():
            _walk(nested, found)


def fillable(field: FieldPlan) -> bool:
    if field.kind is Kind.TYPENAME:
        return True
    if field.leaf is None or field.is_list:
        return False
    if field.kind is Kind.ROOT:
        return True
    return field.kind is Kind.ATTRIBUTE and _identifier(field.attribute)


def _identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def inlinable(field: FieldPlan) -> bool:
    """Whether `build` writes this object field's object inside its parent's: a non-null
    attribute holding an object (of a type without `is_type_of`, so graphql-core checks
    nothing of it) whose fields are all leaves read from it, like a pin's `image`."""
    return (
        field.kind is Kind.ATTRIBUTE
        and _identifier(field.attribute)
        and not field.is_list
        and field.non_null
        and field.selection is not None
        and field.is_type_of is None
        and all(f.kind is not Kind.ROOT and fillable(f) for f in field.selection)
    )


def compile_filler(selection: Iterable[FieldPlan]) -> Filler | None:
    """The filler of a selection; None when it has no leaf to fill."""
    fields = tuple(selection)
    if not any((fillable(f) and f.kind is not Kind.TYPENAME) or inlinable(f) for f in fields):
        return None
    names: dict[str, Any] = {}  # (what both functions call: `object_display` sets it up)
    reads: list[str] = []
    checks: list[str] = []
    converts: list[str] = []
    writes: list[str] = []
    for i, field in enumerate(fields):
        key = repr(field.key)
        if not fillable(field):
            writes.append(f"out[{key}] = None")  # its place; the executor fills it
            continue
        if field.kind is Kind.TYPENAME:
            writes.append(f"out[{key}] = {field.attribute!r}")
            continue
        value = f"v{i}"
        reads.append(f"{value} = {_read(field, names, i)}")
        checks.append(_check(field, value, names, converts, i))
        writes.append(f"out[{key}] = {value}")
    fill = "\n".join(
        [
            "def fill(parents, outs):",
            "    try:",
            "        for p, out in zip(parents, outs):",
            *(f"            {line}" for line in reads),
            f"            if not ({' and '.join(checks or ['True'])}):",
            "                return False",
            *(f"            {line}" for line in converts),
            *(f"            {line}" for line in writes),
            "    except Exception:",
            "        return False",
            "    return True",
        ]
    )
    build = _build(fields, names)
    exec(compile(f"{fill}\n\n{build}", "<schema.fast.fill>", "exec"), names)  # noqa: S102
    rest = tuple(f for f in fields if not fillable(f))
    return Filler(
        fill=names["fill"],
        build=names["build"],
        rest=rest,
        build_rest=tuple(f for f in rest if not inlinable(f)),
        objects_each=1 + sum(map(inlinable, fields)),
    )


class _Refused(Exception):
    """A value `build` does not write as it is."""


def _refuse() -> Any:
    raise _Refused


def _read(field: FieldPlan, names: dict[str, Any], i: int | str) -> str:
    """The expression of the field's value for the parent `p`."""
    if field.fn is global_id_of:  # a node's `id`, ~90 per page: its body, without a call
        names["encode_global_id"], names["NODE_TYPE_NAMES"] = encode_global_id, NODE_TYPE_NAMES
        return "encode_global_id(NODE_TYPE_NAMES[type(p)], p.id)"
    if field.kind is Kind.ROOT:
        names[f"f{i}"] = field.fn
        return f"f{i}(p)"
    return f"p.{field.attribute}"


def _build(fields: tuple[FieldPlan, ...], names: dict[str, Any]) -> str:
    """The source of `build(parents, cls)`: the dicts of a batch of objects, all of class
    `cls`, every field in selection order, leaves written and the others' places kept; None
    when a leaf is not as graphql-core would take it (`fill`'s checks, inline).

    (Checking a column's types as a set, with `map` in C, was measured as costly as these
    checks: Python 3.11 specializes `type(v) is str`.)"""
    display, named = object_display(fields, names)
    head = ["type_name = NODE_TYPE_NAMES[cls]"] if named else []
    return "\n".join(
        [
            "def build(parents, cls):",
            "    built = []",
            "    add = built.append",
            "    try:",
            *(f"        {line}" for line in head),
            "        for p in parents:",
            f"            add({display})",
            "    except Exception:",
            "        return None",
            "    return built",
        ]
    )


def object_display(
    fields: tuple[FieldPlan, ...], names: dict[str, Any], tag: str = "", type_name: str = ""
) -> tuple[str, bool]:
    """The dict display of one object `p` of a selection: every field in selection order,
    its leaves checked (`refuse()` on a value graphql-core would not take as it is), the
    leaf-only objects `inlinable` says written inside, and a placeholder (None) for every
    other field; and whether it reads `type_name`, the object's type name (a node's `id`),
    unless given as `type_name`.
    Sets up what it calls in `names`, under names that end in `tag` (several selections'
    displays may share `names`)."""
    names.update(str=str, bool=bool, refuse=_refuse)
    named = False
    items: list[str] = []
    for i, field in enumerate(fields):
        key = repr(field.key)
        if inlinable(field):
            assert field.selection is not None
            inner = f"o{i}"
            nested = ", ".join(
                repr(f.key)
                + ": "
                + (
                    repr(f.attribute)
                    if f.kind is Kind.TYPENAME
                    else checked(
                        f, f"{inner}.{f.attribute}", leaf_serializer(f, names, f"s{i}_{j}{tag}")
                    )
                )
                for j, f in enumerate(field.selection)
            )
            items.append(
                f"{key}: ({{{nested}}} if ({inner} := p.{field.attribute}) is not None"
                " else refuse())"
            )
        elif not fillable(field):
            items.append(f"{key}: None")
        elif field.kind is Kind.TYPENAME:
            items.append(f"{key}: {field.attribute!r}")
        elif field.fn is global_id_of:  # `global_id_of`'s body; it always answers a str
            names["encode_global_id"], names["NODE_TYPE_NAMES"] = encode_global_id, NODE_TYPE_NAMES
            named = not type_name
            name = repr(type_name) if type_name else "type_name"
            items.append(f"{key}: encode_global_id({name}, p.id)")
        else:
            serializer = leaf_serializer(field, names, f"s{i}{tag}")
            items.append(f"{key}: {checked(field, _read(field, names, f'{i}{tag}'), serializer)}")
    return "{" + ", ".join(items) + "}", named


def checked(field: FieldPlan, read: str, serializer: str) -> str:
    """The expression of a value `build` writes: `read`, checked as `_as_is` says, else
    through the leaf type's own serialization (`serializer`, set up by `leaf_serializer`), or
    `refuse()`."""
    ok = _as_is(field, "v")
    if ok is None:
        if field.non_null:
            return f"({serializer}(v) if (v := {read}) is not None else refuse())"
        return f"(None if (v := {read}) is None else {serializer}(v))"
    if field.non_null:  # (the test starts with `type(v)`: `v` is assigned there)
        return f"(v if {ok.replace('type(v)', f'type(v := {read})', 1)} else refuse())"
    return f"(v if (v := {read}) is None or {ok} else refuse())"


def _as_is(field: FieldPlan, value: str) -> str | None:
    """The test under which the leaf `value` is written as it is: its exact type for String,
    ID and Boolean, an int in 32 bits for Int. None: the leaf type's own serialization
    writes it (DateTime, enums...), raising on a bad value."""
    if field.leaf_mode == LeafMode.AS_IS and field.leaf_type in (str, bool):
        return f"type({value}) is {field.leaf_type.__name__}"
    if field.leaf_mode == LeafMode.INT:
        return f"type({value}) is int and {INT_MIN} <= {value} <= {INT_MAX}"  # (constants)
    return None


def leaf_serializer(field: FieldPlan, names: dict[str, Any], name: str) -> str:
    """`name`, set in `names` to the leaf type's serialization where `_as_is` has no test."""
    if _as_is(field, "v") is None:
        assert field.leaf is not None
        names[name] = partial(Executor.complete_leaf_value, field.leaf)
    return name


def _check(field: FieldPlan, value: str, names: dict[str, Any], converts: list[str], i: int) -> str:
    """The condition under which `value` is written as it is (or converted, in `converts`)."""
    ok = _as_is(field, value)
    if ok is None:
        serializer = leaf_serializer(field, names, f"s{i}")
        if field.non_null:
            converts.append(f"{value} = {serializer}({value})")
            return f"{value} is not None"
        converts.append(f"{value} = None if {value} is None else {serializer}({value})")
        return "True"
    return f"({ok})" if field.non_null else f"({value} is None or ({ok}))"
