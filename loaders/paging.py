"""Keyset pages of rows: what a page loader is asked for (`PageArgs`) and what it answers
(`Page`, its rows as `Edge`s with their keyset positions). Cursors, the opaque form of a
position that clients see, are the resolvers' (resolvers/cursors.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

R = TypeVar("R")


class PageArgs(NamedTuple):
    """How many rows to return (`first`) and the keyset position to start after (an id)."""

    first: int
    after: int | None


class Edge(NamedTuple, Generic[R]):
    """One row of a page and its keyset position (a NamedTuple: built for every row of every
    page)."""

    position: int
    node: R


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
        """The rows, without their positions."""
        return [edge.node for edge in self.edges]

    @property
    def page_info(self) -> Page[R]:
        """The page itself answers `pageInfo { hasNextPage endCursor ... }`."""
        return self


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
