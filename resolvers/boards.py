"""Board fields that need a loader: owner, pin count and pins."""

from __future__ import annotations

from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info


async def owner(root: BoardRow, info: Info) -> UserRow | None:
    """The user who owns the board."""
    return await info.context.loaders.user_by_id.load(root.owner_id)


async def pin_count(root: BoardRow, info: Info) -> int:
    """How many pins the board holds."""
    return await info.context.loaders.pin_count_by_board_id.load(root.id)


async def pins(
    root: BoardRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[PinRow]:
    """The board's pins, newest first."""
    return await info.context.loaders.pins_by_board_id.load((root.id, page_args(first, after)))
