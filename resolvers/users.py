"""User fields that need a loader: counts, follow state and the user's connections."""

from __future__ import annotations

from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info


async def follower_count(root: UserRow, info: Info) -> int:
    """How many users follow this user."""
    return await info.context.loaders.follower_count_by_user_id.load(root.id)


async def following_count(root: UserRow, info: Info) -> int:
    """How many users this user follows."""
    return await info.context.loaders.following_count_by_user_id.load(root.id)


async def viewer_is_following(root: UserRow, info: Info) -> bool:
    """Whether the viewer follows this user (false when anonymous)."""
    return await info.context.loaders.viewer_follows_by_user_id.load(root.id)


async def boards(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[BoardRow]:
    """The user's boards, newest first (secret ones only for the user)."""
    return await info.context.loaders.boards_by_owner_id.load((root.id, page_args(first, after)))


async def pins(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[PinRow]:
    """The pins the user created, newest first (those on secret boards only for the user)."""
    return await info.context.loaders.pins_by_creator_id.load((root.id, page_args(first, after)))


async def followers(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[UserRow]:
    """The users following this user, most recent first."""
    return await info.context.loaders.followers_by_user_id.load((root.id, page_args(first, after)))


async def following(
    root: UserRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[UserRow]:
    """The users this user follows, most recent first."""
    return await info.context.loaders.following_by_user_id.load((root.id, page_args(first, after)))
