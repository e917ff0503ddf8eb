"""Board fields that need a loader: owner, pin count and pins."""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import Page
from loaders.rows import BoardRow, PinRow
from resolvers.arguments import After, First
from resolvers.cursors import DEFAULT_FIRST, page_args
from resolvers.fields import keyed, loaded

owner = keyed(BoardRow, lambda loaders: loaders.user_by_id, lambda board: board.owner_id)
"""The user who owns the board."""

pin_count = keyed(BoardRow, lambda loaders: loaders.pin_count_by_board_id, lambda board: board.id)
"""How many pins the board holds."""


@loaded
def pins(
    loaders: Loaders, board: BoardRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[PinRow]]:
    """The board's pins, newest first."""
    return loaders.pins_by_board_id.load((board.id, page_args(first, after)))
