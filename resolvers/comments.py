"""Comment fields that need a loader: author and pin."""

from __future__ import annotations

from loaders.rows import CommentRow, PinRow, UserRow
from resolvers.context import Info


async def author(root: CommentRow, info: Info) -> UserRow | None:
    """The user who wrote the comment."""
    return await info.context.loaders.user_by_id.load(root.author_id)


async def pin(root: CommentRow, info: Info) -> PinRow | None:
    """The pin the comment is on."""
    return await info.context.loaders.pin_by_id.load(root.pin_id)
