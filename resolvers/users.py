"""User fields that need a loader: counts, follow state and the user's connections.

Each field is a plain function `load_<field>(loaders, root, **arguments)` that returns the
loader's future, and the Strawberry resolver that awaits it; the fast path (schema/fast)
calls the plain functions for many parents at once.
"""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info
from resolvers.keyed import by_key


@by_key("follower_count_by_user_id", "id")
def load_follower_count(loaders: Loaders, root: UserRow) -> Awaitable[int]:
    """How many users follow this user."""
    return loaders.follower_count_by_user_id.load(root.id)


@by_key("following_count_by_user_id", "id")
def load_following_count(loaders: Loaders, root: UserRow) -> Awaitable[int]:
    """How many users this user follows."""
    return loaders.following_count_by_user_id.load(root.id)


@by_key("viewer_follows_by_user_id", "id")
def load_viewer_is_following(loaders: Loaders, root: UserRow) -> Awaitable[bool]:
    """Whether the viewer follows this user (false when anonymous)."""
    return loaders.viewer_follows_by_user_id.load(root.id)


def load_boards(
    loaders: Loaders, root: UserRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[BoardRow]]:
    """The user's boards, newest first (secret ones only for the user)."""
    return loaders.boards_by_owner_id.load((root.id, page_args(first, after)))


def load_pins(
    loaders: Loaders, root: UserRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[PinRow]]:
    """The pins the user created, newest first (those on secret boards only for the user)."""
    return loaders.pins_by_creator_id.load((root.id, page_args(first, after)))


def load_followers(
    loaders: Loaders, root: UserRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[UserRow]]:
    """The users following this user, most recent first."""
    return loaders.followers_by_user_id.load((root.id, page_args(first, after)))


def load_following(
    loaders: Loaders, root: UserRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[UserRow]]:
    """The users this user follows, most recent first."""
    return loaders.following_by_user_id.load((root.id, page_args(first, after)))


async def follower_count(root: UserRow, info: Info) -> int:
    """How many users follow this user."""
    return await load_follower_count(info.context.loaders, root)


async def following_count(root: UserRow, info: Info) -> int:
    """How many users this user follows."""
    return await load_following_count(info.context.loaders, root)


async def viewer_is_following(root: UserRow, info: Info) -> bool:
    """Whether the viewer follows this user (false when anonymous)."""
    return await load_viewer_is_following(info.context.loaders, root)


async def boards(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[BoardRow]:
    """The user's boards, newest first (secret ones only for the user)."""
    return await load_boards(info.context.loaders, root, first, after)


async def pins(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[PinRow]:
    """The pins the user created, newest first (those on secret boards only for the user)."""
    return await load_pins(info.context.loaders, root, first, after)


async def followers(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[UserRow]:
    """The users following this user, most recent first."""
    return await load_followers(info.context.loaders, root, first, after)


async def following(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[UserRow]:
    """The users this user follows, most recent first."""
    return await load_following(info.context.loaders, root, first, after)
