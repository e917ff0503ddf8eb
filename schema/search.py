"""Search results: connections of hits, best first, each with where its row matched."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import strawberry

from resolvers import search
from schema.connections import PageInfo
from schema.nodes import Board, Pin, User

T = TypeVar("T")


@strawberry.type(
    description="A run of a highlight's text: render each as plain text, the matched ones "
    "emphasised. The text is the row's own, never markup."
)
class HighlightSegment:
    text: str = strawberry.field(description="The text of this run (never empty).")
    matched: bool = strawberry.field(description="Whether it is a word the query matched.")


@strawberry.type(description="A search result and its cursor.")
class SearchEdge(Generic[T]):
    cursor: str = strawberry.field(
        resolver=search.cursor.resolver,
        description="Pass as `after` to continue after this result.",
    )
    node: T = strawberry.field(description="The result.")
    highlight: list[HighlightSegment] = strawberry.field(
        resolver=search.highlight.resolver,
        description="Where the result matched: a pin's title (or a fragment of its "
        "description), a board's name (or description), a user's display name (or "
        "username), as segments; a user found by similarity alone has no matched segment.",
    )


@strawberry.type(
    description="A page of search results, best first: text relevance blended with "
    "engagement and freshness. A search ranks the newest matches of each of its words "
    "(docs/search.md), so its pages end; it has no totalCount."
)
class SearchConnection(Generic[T]):
    edges: list[SearchEdge[T]] = strawberry.field(description="The results with their cursors.")
    nodes: list[T] = strawberry.field(description="The results, when cursors are not needed.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


SearchResult = Annotated[
    Pin | Board | User,
    strawberry.union("SearchResult", description="A pin, board or user a search found."),
]
