"""Pin fields that need a loader: creator, board, savedFrom, counts and comments."""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.paging import Page
from loaders.rows import CommentRow, PinRow
from resolvers.arguments import After, First
from resolvers.cursors import DEFAULT_FIRST, page_args
from resolvers.fields import keyed, loaded

creator = keyed(PinRow, lambda loaders: loaders.user_by_id, lambda pin: pin.creator_id)
"""The user who pinned it."""

board = keyed(PinRow, lambda loaders: loaders.board_by_id, lambda pin: pin.board_id)
"""The board the pin is on (primed by the statement that loaded the pin)."""

saved_from = keyed(PinRow, lambda loaders: loaders.pin_by_id, lambda pin: pin.saved_from_id)
"""The pin this one was saved from, when the viewer may see it (an original pin: None)."""

save_count = keyed(PinRow, lambda loaders: loaders.save_count_by_pin_id, lambda pin: pin.id)
"""How many times the pin was saved onto boards the viewer may see."""

comment_count = keyed(PinRow, lambda loaders: loaders.comment_count_by_pin_id, lambda pin: pin.id)
"""How many comments the pin has."""


@loaded
def comments(
    loaders: Loaders, pin: PinRow, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[CommentRow]]:
    """The pin's comments, newest first."""
    return loaders.comments_by_pin_id.load((pin.id, page_args(first, after)))
