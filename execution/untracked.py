"""Cached documents and plans kept out of the garbage collector's scans.

A full collection of CPython's cyclic garbage collector scans every object it tracks, and a
cached document with its plan is about 700 of them (syntax tree nodes, locations, tokens,
plan fields and selections, the tuples between them): with thousands of documents cached,
every full collection would stop the worker for as long as scanning them all takes. A cache
entry holds no reference cycle (the
token chain is unlinked when a document is parsed, execution/documents.py; a plan holds
none: tests/execution/test_untracked.py), so the collector could never find garbage in
one: untracking it loses nothing, and reference counting frees it when the cache lets it
go. (What a plan gains later, its selections' compiled builders, stays tracked.)

`untrack` untracks an entry and what it owns, by type: instances of the syntax tree's classes
and the plan's, and the tuples and dicts between them. It stops at anything else (the
schema's types, fields and functions, loaders' sources, classes): those are shared, and
stay tracked; mapping proxies stay tracked too, and what they wrap is untracked. Untracking
is CPython's `PyObject_GC_UnTrack` (its C API, the call a deallocator makes). Only objects whose
deallocator tolerates finding them untracked may be untracked: instances of classes made by
a class statement (CPython's `subtype_dealloc`), tuples and dicts (which the collector
untracks itself when they hold no container); some built-in types' deallocators assume they
are tracked (a mapping proxy's would corrupt memory). On another implementation, or a
free-threaded build, `untrack` does nothing.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import sysconfig
from collections.abc import Callable
from types import MappingProxyType

from graphql.language import Location, Node, Source, Token

from execution.collect import Occurrence
from execution.documents import PreparedDocument
from execution.plan import Compiled, Field, Plan, Selection
from execution.values import Arguments, Variables


def _subclasses(cls: type) -> set[type]:
    subclasses: list[type] = type.__subclasses__(cls)
    return {cls}.union(*map(_subclasses, subclasses))


HEAP_TYPE = 1 << 9
"""Py_TPFLAGS_HEAPTYPE: a class made by a class statement."""

OWNED: frozenset[type] = frozenset(
    {
        *_subclasses(Node),
        Location,
        Token,
        Source,
        PreparedDocument,
        Plan,
        Selection,
        Field,
        Compiled,
        Occurrence,
        Variables,
        Arguments,
    }
)
"""The classes whose instances a cache entry owns: made for one document, and acyclic."""
CONTAINERS = frozenset({tuple, dict})
"""The built-in types an entry's owned objects are linked by."""
PASSED_THROUGH = frozenset({MappingProxyType})
"""Built-in types between owned objects that stay tracked (their deallocators assume it)."""
assert all(cls.__flags__ & HEAP_TYPE for cls in OWNED)


def _untracker() -> Callable[[object], None] | None:
    if sys.implementation.name != "cpython" or sysconfig.get_config_var("Py_GIL_DISABLED"):
        return None
    function = ctypes.pythonapi.PyObject_GC_UnTrack
    function.argtypes = [ctypes.py_object]
    function.restype = None
    return function


_UNTRACK = _untracker()
_UNTRACKED_KINDS = OWNED | CONTAINERS


def untrack(root: object) -> int:
    """Untracks `root` and every tracked object of an OWNED type (or a container) it reaches
    through such objects; returns how many it untracked. Call it on what a cache keeps, as it
    is kept: what a plan gains later (a compiled builder) stays tracked."""
    if _UNTRACK is None:
        return 0
    untracked = 0
    level: list[object] = [root]
    while level:
        below: list[object] = []
        for item in level:
            kind = type(item)
            if kind in _UNTRACKED_KINDS:
                if gc.is_tracked(item):
                    _UNTRACK(item)
                    untracked += 1
                    below.append(item)
            elif kind in PASSED_THROUGH:
                below.append(item)
        level = gc.get_referents(*below) if below else []
    return untracked
