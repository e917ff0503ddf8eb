"""Cursor pagination: validated page arguments, opaque keyset cursors, and pages of rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

from loaders.errors import BadUserInput
from loaders.opaque import clear_text, opaque

DEFAULT_FIRST = 20
MAX_FIRST = 100
_CURSOR_PREFIX = "cursor:"
_MAX_ID = 2**63 - 1

R = TypeVar("R")


class PageArgs(NamedTuple):
    """How many rows to return (`first`) and the keyset position to start after (an id)."""

    first: int
    after: int | None


def page_args(first: int | None, after: str | None) -> PageArgs:
    """Validates `first` (1..100, default 20) and decodes `after`; BAD_USER_INPUT otherwise."""
    if first is None:
        first = DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput("first", f"first must be between 1 and {MAX_FIRST}, got {first}")
    return PageArgs(first, None if after is None else decode_cursor(after))


CURSORS_REMEMBERED = 16_384
"""Per worker: about 4 MiB when full."""


@lru_cache(maxsize=CURSORS_REMEMBERED)
def encode_cursor(position: int) -> str:
    """The opaque cursor of a row at keyset position `position` (unpadded URL-safe base64).

    Each edge of a page has one, and the pages of popular boards and feeds are asked for
    over and over: the latest cursors are remembered."""
    return opaque(f"{_CURSOR_PREFIX}{position}")


def decode_cursor(cursor: str, argument: str = "after") -> int:
    """Decodes a cursor made by `encode_cursor`; anything else is BAD_USER_INPUT."""
    shown = repr(cursor if len(cursor) <= 40 else cursor[:40] + "…")
    invalid = BadUserInput(
        argument, f"{argument} is not a valid cursor: {shown} (use an endCursor or edge cursor)"
    )
    if not cursor or len(cursor) > 64:
        raise invalid
    raw = clear_text(cursor)
    if raw is None:
        raise invalid
    digits = raw.removeprefix(_CURSOR_PREFIX)
    if digits == raw or not digits.isdigit() or not digits.isascii():
        raise invalid
    position = int(digits)
    if not 0 < position <= _MAX_ID or encode_cursor(position) != cursor:
        raise invalid
    return position


class Edge(NamedTuple, Generic[R]):
    """One row of a page and its keyset position (a NamedTuple: built for every row of every
    page)."""

    position: int
    node: R

    @property
    def cursor(self) -> str:
        """The cursor just after this row (made when asked for: most pages only show
        their nodes)."""
        return encode_cursor(self.position)


@dataclass(slots=True)
class Page(Generic[R]):
    """A page of rows, newest first, with what a Relay connection exposes about it.

    `count` is called only when a client asks for `totalCount`, through the count loader
    of the same parent, so a page costs no count query unless one is wanted.
    """

    edges: list[Edge[R]]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]

    @property
    def nodes(self) -> list[R]:
        """The rows, without cursors."""
        return [edge.node for edge in self.edges]

    @property
    def start_cursor(self) -> str | None:
        """The cursor of the first row, or None for an empty page."""
        return self.edges[0].cursor if self.edges else None

    @property
    def end_cursor(self) -> str | None:
        """The cursor of the last row, or None for an empty page."""
        return self.edges[-1].cursor if self.edges else None

    @property
    def page_info(self) -> Page[R]:
        """The page itself answers `pageInfo { hasNextPage endCursor ... }`."""
        return self

    async def total_count(self) -> int:
        """Rows in the whole connection (the viewer may see), not just this page."""
        return await self.count()


def make_page(edges: list[Edge[R]], args: PageArgs, count: Callable[[], Awaitable[int]]) -> Page[R]:
    """Builds a page from up to first+1 edges, newest first: the extra one means more exist.

    Forward pagination only: `hasPreviousPage` is true when the page starts after a cursor.
    """
    first = args.first
    return Page(
        edges=edges[:first] if len(edges) > first else edges,
        has_next_page=len(edges) > first,
        has_previous_page=args.after is not None,
        count=count,
    )
