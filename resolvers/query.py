"""Root query fields: the viewer, lookups by username or ID, the latest pins and the home feed."""

from __future__ import annotations

from typing import Annotated

import strawberry

from loaders.global_ids import decode_id_of
from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First, NodeId
from resolvers.context import Info


async def viewer(info: Info) -> UserRow | None:
    """The signed-in user, or null when anonymous."""
    viewer_id = info.context.viewer_id
    return None if viewer_id is None else await info.context.loaders.user_by_id.load(viewer_id)


async def user(
    info: Info, username: Annotated[str, strawberry.argument(description="A username.")]
) -> UserRow | None:
    """The user with this username, or null."""
    if "\x00" in username:  # no username holds NUL (db/writes/rules.py), and SQL refuses it
        return None
    return await info.context.loaders.user_by_username.load(username)


async def board(info: Info, id: NodeId) -> BoardRow | None:
    """The board with this ID, or null when it does not exist or is secret to the viewer."""
    return await info.context.loaders.board_by_id.load(decode_id_of("Board", id))


async def pin(info: Info, id: NodeId) -> PinRow | None:
    """The pin with this ID, or null when it does not exist or is on a secret board."""
    return await info.context.loaders.pin_by_id.load(decode_id_of("Pin", id))


async def pins(info: Info, first: First = DEFAULT_FIRST, after: After = None) -> Page[PinRow]:
    """The latest pins the viewer may see, newest first."""
    return await info.context.loaders.latest_pins.load((0, page_args(first, after)))


async def home_feed(info: Info, first: First = DEFAULT_FIRST, after: After = None) -> Page[PinRow]:
    """Pins by the users the viewer follows, newest first; needs a signed-in viewer."""
    return await info.context.loaders.home_feed.load((0, page_args(first, after)))
