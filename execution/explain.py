"""What the engine makes of one operation, for people deciding why it is slow or not planned
(`pinql operations explain`): planned or not and why, each field of its plan with where its
value comes from, and the waves its loads go in with the SQL each wave sends. Read from the
plan and the fields' and loaders' declarations alone: no I/O. execution/explain_text.py
renders it as text; `Explained.as_json()` as JSON.

A KEYED or LOADED field loads in wave 1 + the KEYED or LOADED fields above it on its path:
an upper bound, since a loader whose keys are all known sends nothing, and the fields below
it then load a wave earlier. A keyed field whose loader the loader of its parent row primes
(`SqlLoader.primes`: a pin's board comes with the pin) is known and counts no wave. A plain
function written as a coroutine may take one more wave per load it awaits after another's.
"""

from __future__ import annotations

import dis
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from types import CodeType
from typing import Any, get_type_hints

from graphql import GraphQLSchema, OperationDefinitionNode

from execution.budget import MAX_PLAN_NODES, MAX_PLAN_SECONDS, Budget
from execution.cache import Unplanned, planned
from execution.conditions import When
from execution.documents import PreparedDocument
from execution.plan import Field, Selection
from execution.sources import Kind
from loaders import Loaders
from loaders.base import PAGED_SQL, PageByParentLoader, SqlLoader
from resolvers.connections import total_count
from resolvers.fields import attribute_read_by

PLANNED = "planned"
_PARAMETER = re.compile(r"\$\d+")
_PADDING = re.compile(r"(?<=\() | (?=\))")


@dataclass(frozen=True, slots=True)
class FieldExplained:
    """One response key of a selection and where its value comes from."""

    key: str
    name: str
    """The schema field (`key` is its alias when they differ)."""
    type: str
    kind: str
    """execution.sources.Kind's value: attribute, computed, keyed, loaded, typename."""
    source: str
    """Where its value comes from, for people."""
    loader: str | None = None
    """KEYED: the attribute of Loaders its declaration reads (None: not one attribute)."""
    loader_class: str | None = None
    function: str | None = None
    """LOADED, COMPUTED: the plain function's module.qualname."""
    names: tuple[str, ...] = ()
    """LOADED: the attributes of Loaders its code names (its own and the functions it calls
    in its package): what it may load, not what it will."""
    coroutine: bool = False
    """LOADED: a coroutine function (one more wave per load it awaits after another's)."""
    wave: int | None = None
    """KEYED, LOADED: the wave it loads in, at most (None: known, or no load)."""
    primed_by: str | None = None
    """KEYED: the loader class that brought its parent row and primes its loader: known."""
    when: tuple[dict[str, bool], ...] = ()
    """When its conditions are not its parent's: it is selected when one of these holds
    (each: variable → the value it must have)."""
    fields: tuple[FieldExplained, ...] = ()
    """An object type's fields."""
    by_type: dict[str, tuple[FieldExplained, ...]] = field(default_factory=dict)
    """An interface's fields, per runtime type."""


@dataclass(frozen=True, slots=True)
class Load:
    """One field's loads in a wave (or known without one)."""

    path: str
    """Response keys from the root; `[Type]` after an interface's key names a runtime type."""
    kind: str
    loader: str | None
    loader_class: str | None
    function: str | None
    primed_by: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """What one loader sends in a wave: its class's SQL (a wave sends it once, whatever
    fields ask the loader)."""

    loader: str
    loader_class: str
    sql: str


@dataclass(frozen=True, slots=True)
class Wave:
    """One round trip, at most: every statement of the wave goes as one."""

    number: int
    loads: tuple[Load, ...]
    statements: tuple[Statement, ...]
    """The SQL of each loader its loads name, in order of first mention (`totalCount`: the
    count loader of its page's loader, `<attribute>.counts`)."""


@dataclass(frozen=True, slots=True)
class Explained:
    """What the engine makes of one operation."""

    operation: str | None
    operation_type: str
    planned: bool
    reason: str
    """`planned`, else why it runs on graphql-core (execution/run.py's REASONS)."""
    detail: str
    size: int | None
    """Plan nodes it took (planned)."""
    budget: int
    """Plan nodes a document may take (execution/budget.py)."""
    conditions: tuple[str, ...] = ()
    """The variables `@include`/`@skip` read."""
    fields: tuple[FieldExplained, ...] = ()
    waves: tuple[Wave, ...] = ()
    known: tuple[Load, ...] = ()
    """Keyed loads known from the row that brought their parent: no statement."""

    def as_json(self) -> dict[str, Any]:
        """The explanation as plain JSON values."""
        return asdict(self)


def explain(
    schema: GraphQLSchema,
    document: PreparedDocument,
    operation: OperationDefinitionNode,
    *,
    max_plan_nodes: int = MAX_PLAN_NODES,
    max_plan_seconds: float = MAX_PLAN_SECONDS,
    fast_path: bool = True,
) -> Explained:
    """What the engine makes of `operation` in the valid `document`, planned within these
    budgets as PlanCache plans it (`fast_path` False: the engine is off)."""
    name = operation.name.value if operation.name else None
    kind = operation.operation.value
    if not fast_path:
        return Explained(name, kind, False, "disabled", "PINQL_FAST_PATH=false", None, 0)
    found = planned(schema, document, operation, Budget(max_plan_nodes, max_plan_seconds))
    if isinstance(found, Unplanned):
        return Explained(name, kind, False, found.reason, found.detail, None, max_plan_nodes)
    walk = _Walk()
    fields = walk.selection(found.root, "", 0, frozenset(), frozenset({frozenset()}))
    return Explained(
        name,
        kind,
        True,
        PLANNED,
        "",
        size=found.size,
        budget=max_plan_nodes,
        conditions=tuple(sorted(found.conditions)),
        fields=fields,
        waves=tuple(
            Wave(number, tuple(loads), tuple(walk.statements[number].values()))
            for number, loads in sorted(walk.loads.items())
        ),
        known=tuple(walk.known),
    )


Condition = frozenset[When]
"""A field's condition: one of these must hold (the empty When always holds)."""


class _Walk:
    """One walk of a plan: its fields explained, their loads gathered by wave."""

    def __init__(self) -> None:
        self.classes = loader_classes()
        self.loads: dict[int, list[Load]] = {}
        self.statements: dict[int, dict[str, Statement]] = {}
        self.known: list[Load] = []

    def selection(
        self,
        selection: Selection,
        path: str,
        above: int,
        brought_by: frozenset[str],
        condition: Condition,
    ) -> tuple[FieldExplained, ...]:
        """The selection's fields, below `above` waves, on rows the loaders `brought_by`
        brought, selected under `condition`."""
        return tuple(
            self.explain(f, f"{path}.{f.key}" if path else f.key, above, brought_by, condition)
            for f in selection.fields
        )

    def explain(
        self, plan_field: Field, path: str, above: int, brought_by: frozenset[str], outer: Condition
    ) -> FieldExplained:
        """One field, below `above` waves, on rows the loaders `brought_by` brought, inside
        a selection taken under `outer`."""
        source = plan_field.source
        condition = _condition(plan_field)
        explained: dict[str, Any] = {"when": () if condition == outer else _literals(condition)}
        kind = plan_field.kind
        if kind is Kind.KEYED:
            assert source.keyed is not None
            loader = attribute_read_by(source.keyed.loader)
            found = self.classes.get(loader) if loader else None
            loader_class = found.__name__ if found else None
            key = attribute_read_by(source.keyed.key) or "a function of the parent"
            explained.update(
                loader=loader,
                loader_class=loader_class,
                source=f"{loader_class or 'a loader'} (loaders.{loader}) by {key}",
            )
            load = Load(path, kind.value, loader, loader_class, None)
            primers = [self.classes[name] for name in sorted(brought_by) if name in self.classes]
            if loader and primers and all(loader in primer.primes for primer in primers):
                primed_by = ", ".join(primer.__name__ for primer in primers)
                explained["primed_by"] = primed_by
                self.known.append(replace(load, primed_by=primed_by))
            else:
                above += 1
                explained["wave"] = above
                self.add(above, load, [loader] if loader else [])
            brought_by = frozenset([loader] if loader else [])
        elif kind is Kind.LOADED:
            assert source.load is not None
            names = loaders_named_by(source.load, frozenset(self.classes))
            if source.load is total_count.fn:  # the count loader of the page it is on
                names = tuple(f"{name}.counts" for name in sorted(brought_by))
            named = ", ".join(self.classes[name].__name__ for name in names if name in self.classes)
            above += 1
            explained.update(
                function=source.described,
                names=names,
                coroutine=inspect.iscoroutinefunction(source.load),
                wave=above,
                source=f"{source.described}: {named}" if named else source.described,
            )
            self.add(above, Load(path, kind.value, None, None, source.described), names)
            brought_by = frozenset(names)
        elif kind is Kind.COMPUTED:
            explained.update(function=source.described, source=source.described)
        elif kind is Kind.TYPENAME:
            explained["source"] = f"the type's name ({plan_field.type_name})"
        else:
            explained["source"] = source.described.removeprefix("attribute ")
        if plan_field.selection is not None:
            explained["fields"] = self.selection(
                plan_field.selection, path, above, brought_by, condition
            )
        elif plan_field.selections is not None:
            explained["by_type"] = {
                runtime: self.selection(s, f"{path}[{runtime}]", above, brought_by, condition)
                for runtime, s in plan_field.selections.items()
            }
        return FieldExplained(
            key=plan_field.key,
            name=plan_field.name,
            type=_type_of(plan_field),
            kind=kind.value,
            **explained,
        )

    def add(self, wave: int, load: Load, loaders: Iterable[str]) -> None:
        """Notes a load in `wave`, and the statements of the loaders it names."""
        self.loads.setdefault(wave, []).append(load)
        statements = self.statements.setdefault(wave, {})
        for name in loaders:
            loader_class = self.classes.get(name)
            if name not in statements and loader_class is not None:
                statements[name] = Statement(name, loader_class.__name__, sql_of(loader_class))


@cache
def loader_classes() -> Mapping[str, type[SqlLoader[Any, Any]]]:
    """Each loader attribute of Loaders (loaders/container.py) and its class; for a page
    loader also `<attribute>.counts`, the class of its own count loader (its totalCount)."""
    found: dict[str, type[SqlLoader[Any, Any]]] = {}
    built = Loaders(None, None, None)  # type: ignore[arg-type]  # (building one sends nothing)
    for name, hint in get_type_hints(Loaders).items():
        if isinstance(hint, type) and issubclass(hint, SqlLoader):
            found[name] = hint
            if issubclass(hint, PageByParentLoader):
                found[f"{name}.counts"] = type(getattr(built, name).counts)
    return found


def sql_of(loader_class: type[SqlLoader[Any, Any]]) -> str:
    """The statement a loader class sends (a page loader's: its body in PAGED_SQL)."""
    if issubclass(loader_class, PageByParentLoader):
        return PAGED_SQL.format(body=loader_class.body).strip()
    sql = getattr(loader_class, "sql", "")
    return sql.strip() if isinstance(sql, str) else ""


def loaders_in(sql: str) -> tuple[str, ...]:
    """The loader classes whose statements a statement sent holds, in order: its own when sent
    alone, each of a wave's combined statement (db/waves.py); none for any other SQL."""
    text = _comparable(sql)
    statements = {_comparable(sql_of(c)): c.__name__ for c in set(loader_classes().values())}
    if text in statements:
        return (statements[text],)
    found: list[tuple[int, str]] = []
    for statement, name in statements.items():
        column = f"array(select s from ({statement}) as s)"
        start = text.find(column)
        while start != -1:
            found.append((start, name))
            start = text.find(column, start + 1)
    return tuple(name for _, name in sorted(found))


def _comparable(sql: str) -> str:
    """`sql` with its whitespace runs as one space and its parameters unnumbered."""
    return _PARAMETER.sub("$", _PADDING.sub("", " ".join(sql.split())))


def loaders_named_by(fn: Callable[..., Any], names: frozenset[str]) -> tuple[str, ...]:
    """The attributes among `names` that `fn`'s code reads (`loaders.board_by_id`), and the
    code of the functions of its package it calls (resolvers/nodes.py's `load_node`)."""
    package = fn.__module__.partition(".")[0]
    found: dict[str, None] = {}
    seen: set[CodeType] = set()

    def walk(code: CodeType, namespace: Mapping[str, Any]) -> None:
        if code in seen:
            return
        seen.add(code)
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and instruction.argval in names:
                found[instruction.argval] = None
            elif instruction.opname == "LOAD_GLOBAL":
                called = namespace.get(instruction.argval)
                if inspect.isfunction(called) and called.__module__.startswith(f"{package}."):
                    walk(called.__code__, called.__globals__)
        for constant in code.co_consts:  # comprehensions, nested functions
            if isinstance(constant, CodeType):
                walk(constant, namespace)

    walk(fn.__code__, fn.__globals__)
    return tuple(found)


def _condition(plan_field: Field) -> Condition:
    """When the field is selected: its occurrences' conditions, none implied by another."""
    whens = {occurrence.when for occurrence in plan_field.occurrences}
    return frozenset(w for w in whens if not any(other < w for other in whens))


def _literals(condition: Condition) -> tuple[dict[str, bool], ...]:
    return tuple(dict(sorted(when)) for when in sorted(condition, key=sorted))


def _type_of(plan_field: Field) -> str:
    named = str(plan_field.return_type)
    if plan_field.is_list:
        named = f"[{named}{'!' if plan_field.item_non_null else ''}]"
    return f"{named}!" if plan_field.non_null else named
