"""A planned operation compiled into Python functions, one per object or leaf field it
reaches: the executor's work for the usual request, with its field-by-field decisions taken
once, when the operation is planned.

`compile_tree` turns a plan's field tree into the source of one function per field that
completes it (`c<n>(r, values, outs)`: writes the field's values into its parents' dicts,
builds their objects as dict displays with the leaves checked inline, then asks for the
loads of the fields below) and one for the root (`root(r)`), with every constant (keys,
loaders, arguments, functions) bound by name. A load that must wait is queued on the runner
as `(then, field, loader, waited, outs)`; `schema.fast.execute` runs the waves and calls
`then` with the loaded values.

The compiled functions only take the usual path: every value of the type the schema says,
no null where it cannot be, every load answered. On anything else they raise, and the
executor answers the request (schema/fast/execute.py: from the start with the same loaders,
or, after a failed wave, from the loads that wait). A field tree with a field the compiler
does not handle (an interface, a list of leaves) is not compiled: its requests go to the
executor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import NoneType
from typing import Any

from loaders.waves import LOADED, WAITING, Pending, readiness_of
from schema.fast.fields import Kind
from schema.fast.fill import checked, fillable, inlinable, leaf_serializer, object_display
from schema.fast.plan import FieldPlan

Root = Callable[[Any], dict[str, Any]]


class NotCompiled(Exception):
    """A field the compiler does not handle: the tree is left to the executor."""


class Deopt(Exception):
    """A value or a load the compiled functions do not take: the executor answers."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A field tree's compiled functions: `root(r)` starts a request and answers its data
    dict, filled as the waves bring values; `source` is the generated code (for reading)."""

    root: Root
    source: str


def compile_tree(tree: tuple[FieldPlan, ...]) -> Compiled | None:
    """The compiled functions of a plan's field tree; None when it holds a field the
    compiler does not handle."""
    compiler = _Compiler()
    try:
        source = compiler.root(tree)
    except NotCompiled:
        return None
    code = compile(source, "<schema.fast.compiled>", "exec")
    exec(code, compiler.names)  # noqa: S102 (generated from the plan: no request data in it)
    return Compiled(root=compiler.names["root"], source=source)


def learn(known: set[type], is_type_of: Callable[[Any, Any], bool], values: list[Any]) -> None:
    """Notes the classes of `values` as ones of an object field's type (Strawberry's
    `is_type_of` checks the row's class: one value of each class will do); raises Deopt for
    a value that is not (graphql-core: "Expected value of type..."). Nulls are left to the
    caller."""
    for value in values:
        cls = type(value)
        if cls in known or value is None:
            continue
        if not is_type_of(value, None):
            raise Deopt(f"{cls.__name__} is not of the field's type")
        known.add(cls)


def resolved(called: list[Any]) -> list[Any] | None:
    """The values of a batch of plain-function calls: None when all are loads still to come
    (the next wave brings them), the values when all are known (a done load, or a value
    given at once, like a null viewer); raises Deopt on a mix, a failed load or a coroutine
    (the executor drives those), closing the coroutines."""
    readiness = readiness_of(called)
    if readiness == WAITING:
        return None
    if readiness == LOADED:
        return [v.value for v in called]
    if not any(type(v) is Pending or hasattr(v, "__await__") for v in called):
        return called
    for v in called:
        close = getattr(v, "close", None)
        if close is not None and type(v) is not Pending:
            close()  # a coroutine (node, nodes): the executor calls it again
    raise Deopt("loads neither all waiting nor all known")


class _Compiler:
    """Writes the source of a field tree's functions; `names` holds what it calls."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {
            "Deopt": Deopt,
            "learn": learn,
            "resolved": resolved,
            "list": list,
            "tuple": tuple,
            "type": type,
            "zip": zip,
            "map": map,
            "set": set,
        }
        self.functions: list[str] = []
        self.count = 0

    def bind(self, prefix: str, value: Any) -> str:
        """A fresh name for `value` in the generated code."""
        self.count += 1
        name = f"{prefix}{self.count}"
        self.names[name] = value
        return name

    def root(self, tree: tuple[FieldPlan, ...]) -> str:
        items = []
        for field in tree:
            if field.kind is Kind.TYPENAME:
                items.append(f"{field.key!r}: {field.attribute!r}")
            elif field.kind is Kind.LOAD:
                items.append(f"{field.key!r}: None")
            else:
                raise NotCompiled(f"root field {field.name}")
        lines = [
            "def root(r):",
            f"    data = {{{', '.join(items)}}}",
            "    parents = [None]",
            "    children = [data]",
            *self.rest(tree, "    "),
            "    return data",
        ]
        return "\n\n".join([*self.functions, "\n".join(lines)]) + "\n"

    def rest(self, fields: tuple[FieldPlan, ...], indent: str) -> list[str]:
        """The lines that complete, for `parents` and their dicts `children`, the fields a
        dict display left a placeholder for."""
        lines: list[str] = []
        for field in fields:
            if field.kind is Kind.TYPENAME or fillable(field) or inlinable(field):
                continue
            then = self.completion(field)
            if field.kind is Kind.ATTRIBUTE:
                if not field.attribute.isidentifier():
                    raise NotCompiled(f"attribute {field.attribute!r}")
                lines.append(f"{then}(r, [p.{field.attribute} for p in parents], children)")
            elif field.kind is Kind.LOAD and field.by_key is not None:
                key_of = self.bind("key_of", field.by_key.key_of)
                loader = field.by_key.loader
                if not loader.isidentifier():
                    raise NotCompiled(f"loader {loader!r}")
                plan = self.bind("field", field)
                lines += [
                    f"keys = list(map({key_of}, parents))",
                    f"loader = r.loaders.{loader}",
                    "if loader.ask(keys):",
                    "    known = loader.known",
                    f"    {then}(r, [known[k] for k in keys], children)",
                    "else:",
                    f"    r.queue.append(({then}, {plan}, loader, keys, children))",
                ]
            elif field.kind is Kind.LOAD:
                fn = self.bind("fn", field.fn)
                plan = self.bind("field", field)
                if field.variable_field is not None:
                    lines.append(f"arguments = r.arguments_of({plan})")
                    call = f"{fn}(loaders, p, **arguments)"
                elif field.arguments:
                    call = f"{fn}(loaders, p, **{self.bind('arguments', dict(field.arguments))})"
                else:
                    call = f"{fn}(loaders, p)"
                lines += [
                    "loaders = r.loaders",
                    f"called = [{call} for p in parents]",
                    "got = resolved(called)",
                    "if got is None:",
                    f"    r.queue.append(({then}, {plan}, None, called, children))",
                    "else:",
                    f"    {then}(r, got, children)",
                ]
            else:
                raise NotCompiled(f"{field.parent_type}.{field.name}")
        return [f"{indent}{line}" for line in lines]

    def completion(self, field: FieldPlan) -> str:
        """The name of the function that completes `field`: `(r, values, outs)`, a value per
        parent dict."""
        if field.leaf is not None:
            return self.leaf(field)
        if field.selection is not None:
            return self.objects(field)
        raise NotCompiled(f"{field.parent_type}.{field.name}: an interface")

    def leaf(self, field: FieldPlan) -> str:
        if field.is_list:
            raise NotCompiled(f"{field.parent_type}.{field.name}: a list of leaves")
        name = self.bind("c", None)
        value = checked(field, "v0", leaf_serializer(field, self.names, f"{name}_s"))
        self.functions.append(
            "\n".join(
                [
                    f"def {name}(r, values, outs):",
                    "    for v0, out in zip(values, outs):",
                    f"        out[{field.key!r}] = {value}",
                ]
            )
        )
        return name

    def objects(self, field: FieldPlan) -> str:
        assert field.selection is not None
        fields = field.selection
        name = self.bind("c", None)
        # (no interface in a compiled tree: the objects' type is the selection's)
        display, named = object_display(fields, self.names, f"_{name}", fields[0].parent_type)
        assert not named
        each = 1 + sum(map(inlinable, fields))
        key = repr(field.key)
        rest = self.rest(fields, "    ")
        check: list[str] = []  # the classes of a batch (of a list), in C
        if field.is_type_of is not None:
            known = self.bind("types", {NoneType})  # (nulls: checked one by one)
            is_type_of = self.bind("is_type_of", field.is_type_of)
            batch = "value" if field.is_list else "values"
            check = [
                f"if not set(map(type, {batch})) <= {known}:",
                f"    learn({known}, {is_type_of}, {batch})",
            ]
        keep = ["add_parent(p)", "add_child(d)"] if rest else []
        null = "raise Deopt(None)" if field.non_null else "continue"
        if not field.is_list:
            body = [
                *check,
                "for p, out in zip(values, outs):",
                "    if p is None:",
                f"        {null}",  # (a nullable one keeps its placeholder: null)
                f"    out[{key}] = {'d = ' if rest else ''}{display}",
                *(f"    {line}" for line in keep),
            ]
        else:
            item_null = ["raise Deopt(None)"] if field.item_non_null else ["add(None)", "continue"]
            body = [
                "for value, out in zip(values, outs):",
                "    if value is None:",
                f"        {null}",
                "    if type(value) is not list and type(value) is not tuple:",
                "        raise Deopt(value)",
                f"    out[{key}] = items = []",
                "    add = items.append",
                *(f"    {line}" for line in check),
                "    for p in value:",
                "        if p is None:",
                *(f"            {line}" for line in item_null),
                f"        add({'d := ' if rest else ''}{display})",
                *(f"        {line}" for line in keep),
            ]
            if not rest:
                body.append("    n += len(value) - value.count(None)")
        if rest:
            made = "len(children)"
        elif field.is_list:
            made = "n"
        else:
            made = "(len(values) - values.count(None))"
        lines = [
            f"def {name}(r, values, outs):",
            *(
                [
                    "    parents = []",
                    "    children = []",
                    "    add_parent, add_child = parents.append, children.append",
                ]
                if rest
                else ["    n = 0"]
                if field.is_list
                else []
            ),
            *(f"    {line}" for line in body),
            f"    r.built += {made} * {each}" if each > 1 else f"    r.built += {made}",
            *rest,
        ]
        self.functions.append("\n".join(lines))
        return name
