"""Board fields that need a loader: owner, pin count and pins.

Each field is a plain function `load_<field>(loaders, root, **arguments)` returning the
loader's future (the fast path, schema/fast, calls it), and the resolver that awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First
from resolvers.context import Info
from resolvers.keyed import by_key


@by_key("user_by_id", "owner_id")
def load_owner(loaders: Loaders, root: BoardRow) -> Awaitable[UserRow | None]:
    """The user who owns the board."""
    return loaders.user_by_id.load(root.owner_id)


@by_key("pin_count_by_board_id", "id")
def load_pin_count(loaders: Loaders, root: BoardRow) -> Awaitable[int]:
    """How many pins the board holds."""
    return loaders.pin_count_by_board_id.load(root.id)


def load_pins(
    loaders: Loaders, root: BoardRow, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[PinRow]]:
    """The board's pins, newest first."""
    return loaders.pins_by_board_id.load((root.id, page_args(first, after)))


async def owner(root: BoardRow, info: Info) -> UserRow | None:
    """The user who owns the board."""
    return await load_owner(info.context.loaders, root)


async def pin_count(root: BoardRow, info: Info) -> int:
    """How many pins the board holds."""
    return await load_pin_count(info.context.loaders, root)


async def pins(
    root: BoardRow, info: Info, first: First = DEFAULT_FIRST, after: After = None
) -> Page[PinRow]:
    """The board's pins, newest first."""
    return await load_pins(info.context.loaders, root, first, after)
