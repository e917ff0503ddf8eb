"""Pin fields that need a loader: creator, board, savedFrom, counts and comments."""

from __future__ import annotations

from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, CommentRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info


async def creator(root: PinRow, info: Info) -> UserRow | None:
    """The user who pinned it."""
    return await info.context.loaders.user_by_id.load(root.creator_id)


async def board(root: PinRow, info: Info) -> BoardRow | None:
    """The board the pin is on."""
    return await info.context.loaders.board_by_id.load(root.board_id)


async def saved_from(root: PinRow, info: Info) -> PinRow | None:
    """The pin this one was saved from, when the viewer may see it."""
    if root.saved_from_id is None:
        return None
    return await info.context.loaders.pin_by_id.load(root.saved_from_id)


async def save_count(root: PinRow, info: Info) -> int:
    """How many times the pin was saved onto boards the viewer may see."""
    return await info.context.loaders.save_count_by_pin_id.load(root.id)


async def comment_count(root: PinRow, info: Info) -> int:
    """How many comments the pin has."""
    return await info.context.loaders.comment_count_by_pin_id.load(root.id)


async def comments(
    root: PinRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[CommentRow]:
    """The pin's comments, newest first."""
    return await info.context.loaders.comments_by_pin_id.load((root.id, page_args(first, after)))
