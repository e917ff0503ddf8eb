"""User fields that need a loader: counts, follow state and the user's connections."""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import Page
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.cursors import DEFAULT_FIRST, page_args
from resolvers.fields import keyed, loaded

follower_count = keyed(
    UserRow, lambda loaders: loaders.follower_count_by_user_id, lambda user: user.id
)
"""How many users follow this user."""

following_count = keyed(
    UserRow, lambda loaders: loaders.following_count_by_user_id, lambda user: user.id
)
"""How many users this user follows."""

viewer_is_following = keyed(
    UserRow, lambda loaders: loaders.viewer_follows_by_user_id, lambda user: user.id
)
"""Whether the viewer follows this user (false when anonymous)."""


@loaded
def boards(
    loaders: Loaders, user: UserRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[BoardRow]]:
    """The user's boards, newest first (secret ones only for the user)."""
    return loaders.boards_by_owner_id.load((user.id, page_args(first, after)))


@loaded
def pins(
    loaders: Loaders, user: UserRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[PinRow]]:
    """The pins the user created, newest first (those on secret boards only for the user)."""
    return loaders.pins_by_creator_id.load((user.id, page_args(first, after)))


@loaded
def followers(
    loaders: Loaders, user: UserRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[UserRow]]:
    """The users following this user, most recent first."""
    return loaders.followers_by_user_id.load((user.id, page_args(first, after)))


@loaded
def following(
    loaders: Loaders, user: UserRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[UserRow]]:
    """The users this user follows, most recent first."""
    return loaders.following_by_user_id.load((user.id, page_args(first, after)))
