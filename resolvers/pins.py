"""Pin fields that need a loader: creator, board, savedFrom, counts and comments.

Each field is a plain function `load_<field>(loaders, root, **arguments)` returning the
loader's future (the fast path, schema/fast, calls it), and the resolver that awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, CommentRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info
from resolvers.keyed import by_key


@by_key("user_by_id", "creator_id")
def load_creator(loaders: Loaders, root: PinRow) -> Awaitable[UserRow | None]:
    """The user who pinned it."""
    return loaders.user_by_id.load(root.creator_id)


@by_key("board_by_id", "board_id")
def load_board(loaders: Loaders, root: PinRow) -> Awaitable[BoardRow | None]:
    """The board the pin is on (primed by the statement that loaded the pin)."""
    return loaders.board_by_id.load(root.board_id)


def load_saved_from(loaders: Loaders, root: PinRow) -> Awaitable[PinRow | None] | None:
    """The pin this one was saved from, when the viewer may see it; None (nothing to load)
    for an original pin."""
    if root.saved_from_id is None:
        return None
    return loaders.pin_by_id.load(root.saved_from_id)


@by_key("save_count_by_pin_id", "id")
def load_save_count(loaders: Loaders, root: PinRow) -> Awaitable[int]:
    """How many times the pin was saved onto boards the viewer may see."""
    return loaders.save_count_by_pin_id.load(root.id)


@by_key("comment_count_by_pin_id", "id")
def load_comment_count(loaders: Loaders, root: PinRow) -> Awaitable[int]:
    """How many comments the pin has."""
    return loaders.comment_count_by_pin_id.load(root.id)


def load_comments(
    loaders: Loaders, root: PinRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[CommentRow]]:
    """The pin's comments, newest first."""
    return loaders.comments_by_pin_id.load((root.id, page_args(first, after)))


async def creator(root: PinRow, info: Info) -> UserRow | None:
    """The user who pinned it."""
    return await load_creator(info.context.loaders, root)


async def board(root: PinRow, info: Info) -> BoardRow | None:
    """The board the pin is on."""
    return await load_board(info.context.loaders, root)


async def saved_from(root: PinRow, info: Info) -> PinRow | None:
    """The pin this one was saved from, when the viewer may see it."""
    loading = load_saved_from(info.context.loaders, root)
    return None if loading is None else await loading


async def save_count(root: PinRow, info: Info) -> int:
    """How many times the pin was saved onto boards the viewer may see."""
    return await load_save_count(info.context.loaders, root)


async def comment_count(root: PinRow, info: Info) -> int:
    """How many comments the pin has."""
    return await load_comment_count(info.context.loaders, root)


async def comments(
    root: PinRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[CommentRow]:
    """The pin's comments, newest first."""
    return await load_comments(info.context.loaders, root, first, after)
