"""Comment fields that need a loader: author and pin.

Each field is a plain function `load_<field>(loaders, root)` returning the loader's future
(the fast path, schema/fast, calls it), and the resolver that awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable

from loaders import Loaders
from loaders.rows import CommentRow, PinRow, UserRow
from resolvers.context import Info
from resolvers.keyed import by_key


@by_key("user_by_id", "author_id")
def load_author(loaders: Loaders, root: CommentRow) -> Awaitable[UserRow | None]:
    """The user who wrote the comment."""
    return loaders.user_by_id.load(root.author_id)


@by_key("pin_by_id", "pin_id")
def load_pin(loaders: Loaders, root: CommentRow) -> Awaitable[PinRow | None]:
    """The pin the comment is on."""
    return loaders.pin_by_id.load(root.pin_id)


async def author(root: CommentRow, info: Info) -> UserRow | None:
    """The user who wrote the comment."""
    return await load_author(info.context.loaders, root)


async def pin(root: CommentRow, info: Info) -> PinRow | None:
    """The pin the comment is on."""
    return await load_pin(info.context.loaders, root)
