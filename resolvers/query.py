"""Root query fields: the viewer, lookups by username or ID, the latest pins and the home feed.

Each field is a plain function `load_<field>(loaders, root, **arguments)` (root: None)
returning the loader's future, or the value when there is nothing to load (the fast path,
schema/fast, calls it), and the resolver that awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from loaders import Loaders
from loaders.global_ids import decode_id_of
from loaders.paging import DEFAULT_FIRST, Page, page_args
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First, NodeId
from resolvers.context import Info


def load_viewer(loaders: Loaders, root: None) -> Awaitable[UserRow | None] | None:
    """The signed-in user; None (nothing to load) when anonymous."""
    viewer_id = loaders.viewer_id
    return None if viewer_id is None else loaders.user_by_id.load(viewer_id)


def load_user(loaders: Loaders, root: None, username: str) -> Awaitable[UserRow | None] | None:
    """The user with this username; None (nothing to load) for one no user can have."""
    if "\x00" in username:  # no username holds NUL (db/writes/rules.py), and SQL refuses it
        return None
    return loaders.user_by_username.load(username)


def load_board(loaders: Loaders, root: None, id: str) -> Awaitable[BoardRow | None]:
    """The board with this ID, or null when it does not exist or is secret to the viewer."""
    return loaders.board_by_id.load(decode_id_of("Board", id))


def load_pin(loaders: Loaders, root: None, id: str) -> Awaitable[PinRow | None]:
    """The pin with this ID, or null when it does not exist or is on a secret board."""
    return loaders.pin_by_id.load(decode_id_of("Pin", id))


def load_pins(
    loaders: Loaders, root: None, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[PinRow]]:
    """The latest pins the viewer may see, newest first."""
    return loaders.latest_pins.load((0, page_args(first, after)))


def load_home_feed(
    loaders: Loaders, root: None, first: int | None = DEFAULT_FIRST, after: str | None = None
) -> Awaitable[Page[PinRow]]:
    """Pins by the users the viewer follows, newest first; needs a signed-in viewer."""
    return loaders.home_feed.load((0, page_args(first, after)))


async def viewer(info: Info) -> UserRow | None:
    """The signed-in user, or null when anonymous."""
    loading = load_viewer(info.context.loaders, None)
    return None if loading is None else await loading


async def user(
    info: Info, username: Annotated[str, strawberry.argument(description="A username.")]
) -> UserRow | None:
    """The user with this username, or null."""
    loading = load_user(info.context.loaders, None, username)
    return None if loading is None else await loading


async def board(info: Info, id: NodeId) -> BoardRow | None:
    """The board with this ID, or null when it does not exist or is secret to the viewer."""
    return await load_board(info.context.loaders, None, id)


async def pin(info: Info, id: NodeId) -> PinRow | None:
    """The pin with this ID, or null when it does not exist or is on a secret board."""
    return await load_pin(info.context.loaders, None, id)


async def pins(info: Info, first: First = DEFAULT_FIRST, after: After = None) -> Page[PinRow]:
    """The latest pins the viewer may see, newest first."""
    return await load_pins(info.context.loaders, None, first, after)


async def home_feed(info: Info, first: First = DEFAULT_FIRST, after: After = None) -> Page[PinRow]:
    """Pins by the users the viewer follows, newest first; needs a signed-in viewer."""
    return await load_home_feed(info.context.loaders, None, first, after)
