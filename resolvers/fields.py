"""How a field that needs more than its parent row's columns is declared: once, as plain
Python over the request's loaders and the parent, without Strawberry's `Info`.

Three kinds, each typed by its parent row `P` and its value `V`:

- `keyed(P, loader, key)`: one loader's value for a key read from the parent
  (`loader(loaders).load(key(parent))`; a parent whose key is None has None). The engine
  asks the loader for a whole batch of parents' keys at once; a key that is one attribute
  of the parent (`lambda pin: pin.creator_id`) is read with `operator.attrgetter` (`key_of`).
- `@loaded`: a plain function `fn(loaders, parent, **arguments)` returning a load
  (`loader.load(...)`), a value, or a coroutine over loads; its arguments are the field's.
- `computed(fn)`: a value computed from the parent alone (`fn(parent)`), synchronously.

Each declaration makes its Strawberry resolver (`.resolver`, used in schema/ and run by
graphql-core's path) and is what the engine (execution/) runs: `declaration_of` finds it
from the resolver Strawberry holds. Adding a field is one declaration here and one
`strawberry.field(resolver=<declaration>.resolver, ...)` in schema/.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from loaders import Loaders
from resolvers.context import Info

P = TypeVar("P")
K = TypeVar("K")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)
F = TypeVar("F", bound=Callable[..., Any])

_DECLARATION = "__pinql_declaration__"


class KeyLoader(Protocol[K, V_co]):
    """What a keyed field needs of its loader (loaders.base.SqlLoader)."""

    def load(self, key: K) -> Awaitable[V_co]:
        """The value for `key`."""

    def ask(self, keys: list[K]) -> bool:
        """Planned: asks for the keys not known yet; whether all were known."""

    @property
    def known(self) -> dict[K, Any]:
        """Planned: the values loaded so far, by key (None: as None)."""

    @property
    def failed(self) -> dict[K, Exception]:
        """Planned: the keys whose batch failed in the last wave, and its error."""


@dataclass(frozen=True, slots=True, eq=False)
class Keyed(Generic[P, K, V]):
    """A field whose value is one loader's value for a key of its parent."""

    loader: Callable[[Loaders], KeyLoader[K, V]]
    """The loader, from the request's loaders: `lambda loaders: loaders.user_by_id`."""
    key: Callable[[P], K | None]
    """The parent's key: `lambda pin: pin.creator_id`; None: the value is None, unloaded."""
    key_of: Callable[[P], K | None] = field(init=False, repr=False)
    """`key`, or the same as `operator.attrgetter` when `key` only reads one attribute of
    its argument (read in C: the engine reads a key for every parent of a batch)."""
    loader_of: Callable[[Loaders], KeyLoader[K, V]] = field(init=False, repr=False)
    """`loader`, or the same as `operator.attrgetter` when it only reads one attribute."""
    resolver: Callable[..., Any] = field(init=False, repr=False)
    """The Strawberry resolver."""

    def __post_init__(self) -> None:
        loader, key = self.loader, self.key
        column = attribute_read_by(key)
        object.__setattr__(self, "key_of", key if column is None else attrgetter(column))
        name = attribute_read_by(loader)
        object.__setattr__(self, "loader_of", loader if name is None else attrgetter(name))

        async def resolve(root: Any, info: Info) -> Any:
            value = key(root)
            return None if value is None else await loader(info.context.loaders).load(value)

        signature = inspect.Signature(_reserved(info=True))
        object.__setattr__(self, "resolver", _declared(resolve, self, "keyed", signature))


def keyed(
    parent: type[P],
    loader: Callable[[Loaders], KeyLoader[K, V]],
    key: Callable[[P], K | None],
) -> Keyed[P, K, V]:
    """Declares a field as `loader`'s value for `key(parent)` (`parent` types the key)."""
    return Keyed(loader, key)


@dataclass(frozen=True, slots=True, eq=False)
class Loaded(Generic[P, V]):
    """A field whose value a plain function of the loaders, the parent and the field's
    arguments gives: a load, a value, or a coroutine over loads."""

    fn: Callable[..., Any]
    """`fn(loaders, parent, **arguments)`; its parameters after the first two are the
    field's arguments, by their Python names."""
    resolver: Callable[..., Any] = field(init=False, repr=False)
    """The Strawberry resolver: `fn`'s arguments, the root and Info."""

    def __post_init__(self) -> None:
        fn = self.fn

        async def resolve(root: Any, info: Info, **arguments: Any) -> Any:
            value = fn(info.context.loaders, root, **arguments)
            return await value if inspect.isawaitable(value) else value

        _loaders, _parent, *arguments = inspect.signature(fn).parameters.values()
        signature = inspect.Signature([*_reserved(info=True), *arguments])
        resolve.__module__ = fn.__module__  # Strawberry reads string annotations there
        object.__setattr__(self, "resolver", _declared(resolve, self, fn.__name__, signature))


def loaded(fn: Callable[..., Any]) -> Loaded[Any, Any]:
    """Declares a field by its plain function `fn(loaders, parent, **arguments)` (typed
    itself: its arguments are the field's)."""
    return Loaded(fn)


@dataclass(frozen=True, slots=True, eq=False)
class Computed(Generic[P, V]):
    """A field computed from its parent alone, synchronously (a global ID, a cursor)."""

    fn: Callable[[P], V]
    of: Callable[[P], Any] | None = None
    """What `fn` reads of its parent, when that is one attribute (`lambda row: row.id`)."""
    by: Callable[[str], Callable[[Any], V]] | None = None
    """Given the parent's GraphQL type name, what `fn` does with `of`'s value for parents
    of that type: `fn(parent) == by(type_name)(of(parent))`. The engine then computes the
    field without a Python call per parent when `by` gives a function in C (a cached
    encoder, a partial of one)."""
    attribute: str | None = field(init=False, repr=False)
    """The attribute `of` reads (from its bytecode); None without `of` and `by`."""
    resolver: Callable[..., Any] = field(init=False, repr=False)
    """The Strawberry resolver."""

    def __post_init__(self) -> None:
        fn = self.fn
        read = None if self.of is None or self.by is None else attribute_read_by(self.of)
        object.__setattr__(self, "attribute", read)

        def resolve(root: Any) -> Any:
            return fn(root)

        signature = inspect.Signature(_reserved(info=False))
        object.__setattr__(self, "resolver", _declared(resolve, self, fn.__name__, signature))


def computed(
    fn: Callable[[P], V],
    of: Callable[[P], Any] | None = None,
    by: Callable[[str], Callable[[Any], V]] | None = None,
) -> Computed[P, V]:
    """Declares a field computed from its parent by `fn`; with `of` (the one attribute of
    the parent `fn` reads) and `by` (what it does with it, per parent type), see
    `Computed.by`."""
    return Computed(fn, of, by)


Declaration = Keyed[Any, Any, Any] | Loaded[Any, Any] | Computed[Any, Any]


def declaration_of(resolver: Callable[..., Any]) -> Declaration | None:
    """The declaration a Strawberry resolver was made from; None for any other function."""
    found = getattr(resolver, _DECLARATION, None)
    return found if isinstance(found, Keyed | Loaded | Computed) else None


_ONE_ATTRIBUTE = ("RESUME", "LOAD_FAST", "LOAD_ATTR", "RETURN_VALUE")


def attribute_read_by(fn: Callable[..., Any]) -> str | None:
    """The attribute `fn` returns when its whole body is `return <first argument>.<name>`
    (its bytecode says so); None for any other function."""
    instructions = list(dis.get_instructions(fn))
    if tuple(i.opname for i in instructions) != _ONE_ATTRIBUTE or instructions[1].arg != 0:
        return None
    name = instructions[2].argval
    return name if isinstance(name, str) else None


def _declared(resolve: F, declaration: Declaration, name: str, signature: inspect.Signature) -> F:
    """`resolve`, marked as made from `declaration`, with the parameters Strawberry reads
    (`signature`: no return annotation, so the field's own type is the GraphQL type)."""
    resolve.__name__ = resolve.__qualname__ = name
    resolve.__signature__ = signature  # type: ignore[attr-defined]
    setattr(resolve, _DECLARATION, declaration)
    return resolve


def _reserved(*, info: bool) -> list[inspect.Parameter]:
    """The parameters Strawberry fills itself: the parent (`root`), and `info` if asked."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    root = inspect.Parameter("root", kind)
    return [root, inspect.Parameter("info", kind, annotation=Info)] if info else [root]
