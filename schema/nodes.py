"""The graph's node types: User, Board, Pin and Comment, behind the Relay Node interface.

Fields read loader rows (loaders.rows) by attribute; fields that need more data are declared
in resolvers/ and named here by their resolver. Each type recognises its row class, so
`node(id:)` can tell them apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from loaders import rows
from loaders.paging import Page
from loaders.search import SearchPage
from resolvers import boards, comments, nodes, pins, search, users
from schema.connections import Connection, RankedConnection
from schema.metadata import SURCHARGE

# Fields are annotated with what their resolver returns (rows, pages); `graphql_type` names
# the GraphQL type. Types used before their definition are referenced lazily.
LazyUser = Annotated["User", strawberry.lazy("schema.nodes")]
LazyBoard = Annotated["Board", strawberry.lazy("schema.nodes")]
LazyPin = Annotated["Pin", strawberry.lazy("schema.nodes")]
LazyComment = Annotated["Comment", strawberry.lazy("schema.nodes")]


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        resolver=nodes.global_id.resolver, description="The global ID: opaque, stable, unique."
    )


@strawberry.type(description="A person who pins.")
class User(Node):
    username: str = strawberry.field(description="Unique handle, `[a-z0-9._]{3,30}`.")
    display_name: str = strawberry.field(description="The name shown on the profile.")
    bio: str = strawberry.field(description="Free text from the profile (may be empty).")
    avatar_url: str | None = strawberry.field(description="URL of the profile picture.")
    email: str | None = strawberry.field(
        description="The user's email: visible to that user only, null for everyone else."
    )
    created_at: datetime = strawberry.field(description="When the user signed up.")
    follower_count: int = strawberry.field(
        resolver=users.follower_count.resolver, description="How many users follow this user."
    )
    following_count: int = strawberry.field(
        resolver=users.following_count.resolver, description="How many users this user follows."
    )
    viewer_is_following: bool = strawberry.field(
        resolver=users.viewer_is_following.resolver,
        description="Whether the viewer follows this user (false when anonymous).",
    )
    boards: Page[rows.BoardRow] = strawberry.field(
        resolver=users.boards.resolver,
        graphql_type=Connection[LazyBoard],
        description="The user's boards, newest first (secret boards only for the user).",
    )
    pins: Page[rows.PinRow] = strawberry.field(
        resolver=users.pins.resolver,
        graphql_type=Connection[LazyPin],
        description="Pins the user created, newest first (on secret boards: only for the user).",
    )
    followers: Page[rows.UserRow] = strawberry.field(
        resolver=users.followers.resolver,
        graphql_type=Connection[LazyUser],
        description="Users following this user, most recent first.",
    )
    following: Page[rows.UserRow] = strawberry.field(
        resolver=users.following.resolver,
        graphql_type=Connection[LazyUser],
        description="Users this user follows, most recent first.",
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, rows.UserRow)


@strawberry.type(description="A collection of pins. A SECRET board exists only for its owner.")
class Board(Node):
    name: str = strawberry.field(description="The board's name (1..100 characters).")
    description: str = strawberry.field(description="What the board collects (may be empty).")
    privacy: rows.BoardPrivacy = strawberry.field(description="PUBLIC, or SECRET (owner only).")
    created_at: datetime = strawberry.field(description="When the board was created.")
    owner: rows.UserRow | None = strawberry.field(
        resolver=boards.owner.resolver, graphql_type=User, description="Who owns the board."
    )
    pin_count: int = strawberry.field(
        resolver=boards.pin_count.resolver, description="How many pins the board holds."
    )
    pins: Page[rows.PinRow] = strawberry.field(
        resolver=boards.pins.resolver,
        graphql_type=Connection[LazyPin],
        description="The board's pins, newest first.",
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, rows.BoardRow)


@strawberry.type(description="A pin's picture.")
class Image:
    url: str = strawberry.field(description="Where the image is served.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    dominant_color: str = strawberry.field(
        description="The image's main colour as `#rrggbb`, for placeholders while it loads."
    )


@strawberry.type(description="An image saved to a board, with a title and maybe a link.")
class Pin(Node):
    title: str = strawberry.field(description="The pin's title (1..100 characters).")
    description: str = strawberry.field(description="Free text (may be empty).")
    link: str | None = strawberry.field(description="The web page the pin points to.")
    image: rows.Image = strawberry.field(graphql_type=Image, description="The pin's picture.")
    created_at: datetime = strawberry.field(description="When it was pinned.")
    creator: rows.UserRow | None = strawberry.field(
        resolver=pins.creator.resolver, graphql_type=User, description="Who pinned it."
    )
    board: rows.BoardRow | None = strawberry.field(
        resolver=pins.board.resolver, graphql_type=Board, description="The board it is on."
    )
    saved_from: rows.PinRow | None = strawberry.field(
        resolver=pins.saved_from.resolver,
        graphql_type=LazyPin | None,
        description="The pin this one was saved from (null if original or not visible).",
    )
    save_count: int = strawberry.field(
        resolver=pins.save_count.resolver,
        description="How many times it was saved to visible boards.",
    )
    comment_count: int = strawberry.field(
        resolver=pins.comment_count.resolver, description="How many comments it has."
    )
    comments: Page[rows.CommentRow] = strawberry.field(
        resolver=pins.comments.resolver,
        graphql_type=Connection[LazyComment],
        description="Its comments, newest first.",
    )
    related: SearchPage[rows.PinRow] = strawberry.field(
        resolver=search.related.resolver,
        graphql_type=RankedConnection[LazyPin],
        metadata={SURCHARGE: search.RELATED_COST},
        description="Pins like this one, best first: sharing words of its title, by the "
        "same creator, or on boards it was saved onto (never itself, its repins or the pin "
        "it was saved from).",
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, rows.PinRow)


@strawberry.type(description="A comment on a pin.")
class Comment(Node):
    text: str = strawberry.field(description="The comment (1..1000 characters).")
    created_at: datetime = strawberry.field(description="When it was written.")
    author: rows.UserRow | None = strawberry.field(
        resolver=comments.author.resolver, graphql_type=User, description="Who wrote it."
    )
    pin: rows.PinRow | None = strawberry.field(
        resolver=comments.pin.resolver, graphql_type=Pin, description="The pin it is on."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, rows.CommentRow)
