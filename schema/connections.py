"""Relay cursor connections: Connection[T], Edge[T] and PageInfo, shared by every list."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from resolvers import connections, search

T = TypeVar("T")


@strawberry.type(description="Where a page starts and ends, and whether more items follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Items precede this page (the page was asked for `after` a cursor)."
    )
    start_cursor: str | None = strawberry.field(
        resolver=connections.start_cursor.resolver, description="The first item's cursor."
    )
    end_cursor: str | None = strawberry.field(
        resolver=connections.end_cursor.resolver,
        description="The last item's cursor: pass it as `after` for the next page.",
    )


@strawberry.type(description="An item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        resolver=connections.cursor.resolver,
        description="Pass as `after` to continue after this item.",
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items, newest first, and how to fetch the next.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items with their cursors.")
    nodes: list[T] = strawberry.field(description="The items, when cursors are not needed.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(
        resolver=connections.total_count.resolver,
        description="How many items the whole list holds that the viewer may see.",
    )


@strawberry.type(description="An item of a ranked list and its cursor.")
class RankedEdge(Generic[T]):
    cursor: str = strawberry.field(
        resolver=search.cursor.resolver,
        description="Pass as `after` to continue after this item.",
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(
    description="A page of a ranked list, best first; it ranks a bounded number of "
    "candidates, so its pages end; it has no totalCount."
)
class RankedConnection(Generic[T]):
    edges: list[RankedEdge[T]] = strawberry.field(description="The items with their cursors.")
    nodes: list[T] = strawberry.field(description="The items, when cursors are not needed.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
