"""The root Query type: entry points into the graph."""

from __future__ import annotations

import strawberry

from loaders.paging import Page
from loaders.rows import BoardRow, NodeRow, PinRow, UserRow
from loaders.search import SearchPage
from resolvers import nodes, query
from resolvers import search as searching
from schema.connections import Connection
from schema.metadata import SURCHARGE
from schema.nodes import Board, Node, Pin, User
from schema.search import SearchConnection, SearchResult


@strawberry.type(description="Entry points into the graph.")
class Query:
    node: NodeRow | None = strawberry.field(
        graphql_type=Node | None,
        resolver=nodes.node.resolver,
        description="The object with this global ID; null if it does not exist or is hidden.",
    )
    nodes: list[NodeRow | None] = strawberry.field(
        graphql_type=list[Node | None],
        resolver=nodes.nodes.resolver,
        description="The objects with these global IDs (at most 100), in order, null where "
        "not found.",
    )
    viewer: UserRow | None = strawberry.field(
        graphql_type=User | None,
        resolver=query.viewer.resolver,
        description="The signed-in user (from the bearer token), or null when anonymous.",
    )
    user: UserRow | None = strawberry.field(
        graphql_type=User | None,
        resolver=query.user.resolver,
        description="The user with this username.",
    )
    board: BoardRow | None = strawberry.field(
        graphql_type=Board | None,
        resolver=query.board.resolver,
        description="The board with this ID; null if it does not exist or is secret.",
    )
    pin: PinRow | None = strawberry.field(
        graphql_type=Pin | None,
        resolver=query.pin.resolver,
        description="The pin with this ID; null if it does not exist or is on a secret board.",
    )
    pins: Page[PinRow] = strawberry.field(
        graphql_type=Connection[Pin],
        resolver=query.pins.resolver,
        description="The latest pins the viewer may see, newest first.",
    )
    home_feed: Page[PinRow] = strawberry.field(
        graphql_type=Connection[Pin],
        resolver=query.home_feed.resolver,
        description="Pins by the users the viewer follows, newest first. Needs a viewer "
        "(UNAUTHENTICATED otherwise).",
    )
    search: SearchPage[NodeRow] = strawberry.field(
        graphql_type=SearchConnection[SearchResult],
        resolver=searching.search.resolver,
        metadata={SURCHARGE: 3 * searching.SEARCH_COST},
        description="Pins, boards and users matching the query, best first, as one list "
        "(`searchPins`, `searchBoards`, `searchUsers` search one kind).",
    )
    search_pins: SearchPage[PinRow] = strawberry.field(
        graphql_type=SearchConnection[Pin],
        resolver=searching.search_pins.resolver,
        metadata={SURCHARGE: searching.SEARCH_COST},
        description="Pins whose title or description matches the query, best first (secret "
        "boards' pins for their owner only).",
    )
    search_boards: SearchPage[BoardRow] = strawberry.field(
        graphql_type=SearchConnection[Board],
        resolver=searching.search_boards.resolver,
        metadata={SURCHARGE: searching.SEARCH_COST},
        description="Boards whose name or description matches the query, best first (secret "
        "boards for their owner only).",
    )
    search_users: SearchPage[UserRow] = strawberry.field(
        graphql_type=SearchConnection[User],
        resolver=searching.search_users.resolver,
        metadata={SURCHARGE: searching.SEARCH_COST},
        description="People whose username or display name is like the query, best first: "
        "typos and prefixes forgiven (`carol` finds `caroline.w`).",
    )
