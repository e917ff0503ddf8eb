"""Root query fields: the viewer, lookups by username or ID, the latest pins and the home feed.
Their parent is the root value, None."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from loaders import Loaders
from loaders.paging import Page
from loaders.rows import BoardRow, PinRow, UserRow
from resolvers.arguments import After, First, NodeId
from resolvers.cursors import DEFAULT_FIRST, page_args
from resolvers.errors import Unauthenticated
from resolvers.fields import loaded
from resolvers.ids import decode_id_of

Username = Annotated[str, strawberry.argument(description="A username.")]


@loaded
def viewer(loaders: Loaders, root: None) -> Awaitable[UserRow | None] | None:
    """The signed-in user; None (nothing to load) when anonymous."""
    viewer_id = loaders.viewer_id
    return None if viewer_id is None else loaders.user_by_id.load(viewer_id)


@loaded
def user(loaders: Loaders, root: None, username: Username) -> Awaitable[UserRow | None] | None:
    """The user with this username; None (nothing to load) for one no user can have."""
    if "\x00" in username:  # no username holds NUL (db/writes/rules.py), and SQL refuses it
        return None
    return loaders.user_by_username.load(username)


@loaded
def board(loaders: Loaders, root: None, id: NodeId) -> Awaitable[BoardRow | None]:
    """The board with this ID, or null when it does not exist or is secret to the viewer."""
    return loaders.board_by_id.load(decode_id_of("Board", id))


@loaded
def pin(loaders: Loaders, root: None, id: NodeId) -> Awaitable[PinRow | None]:
    """The pin with this ID, or null when it does not exist or is on a secret board."""
    return loaders.pin_by_id.load(decode_id_of("Pin", id))


@loaded
def pins(
    loaders: Loaders, root: None, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[PinRow]]:
    """The latest pins the viewer may see, newest first."""
    return loaders.latest_pins.load((0, page_args(first, after)))


@loaded
def home_feed(
    loaders: Loaders, root: None, first: First = DEFAULT_FIRST, after: After = None
) -> Awaitable[Page[PinRow]]:
    """Pins by the users the viewer follows, newest first; needs a signed-in viewer."""
    if loaders.viewer_id is None:
        raise Unauthenticated("homeFeed needs a signed-in viewer: send a bearer token")
    return loaders.home_feed.load((0, page_args(first, after)))
