"""One floor request: the loaders' SQL statements, run on one connection as one viewer, and
the pieces every floor operation builds its JSON from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from db.pool import Connection
from loaders.base import PAGED_SQL, PageByParentLoader
from loaders.boards import BoardByIdLoader, BoardCountByOwnerIdLoader, BoardsByOwnerIdLoader
from loaders.comments import CommentCountByPinIdLoader, CommentsByPinIdLoader
from loaders.global_ids import encode_global_id
from loaders.paging import PageArgs, encode_cursor
from loaders.pins import (
    HomeFeedLoader,
    PinByIdLoader,
    PinCountByBoardIdLoader,
    PinsByBoardIdLoader,
    PinsByCreatorIdLoader,
    SaveCountByPinIdLoader,
)
from loaders.users import (
    FollowerCountByUserIdLoader,
    FollowingCountByUserIdLoader,
    UserByIdLoader,
    UserByUsernameLoader,
    ViewerFollowsByUserIdLoader,
)

Json = dict[str, Any]


def _paged(loader: type[PageByParentLoader[Any]]) -> str:
    return PAGED_SQL.format(body=loader.body)


# The loaders' statements; each loader's comment says what its statement returns.
USERS = UserByIdLoader.sql
USER_BY_USERNAME = UserByUsernameLoader.sql
FOLLOWER_COUNTS = FollowerCountByUserIdLoader.sql
FOLLOWING_COUNTS = FollowingCountByUserIdLoader.sql
VIEWER_FOLLOWS = ViewerFollowsByUserIdLoader.sql
BOARDS = BoardByIdLoader.sql
BOARD_COUNTS = BoardCountByOwnerIdLoader.sql
BOARDS_PAGES = _paged(BoardsByOwnerIdLoader)
PINS = PinByIdLoader.sql
PIN_COUNTS = PinCountByBoardIdLoader.sql
BOARD_PINS_PAGES = _paged(PinsByBoardIdLoader)
CREATOR_PINS_PAGES = _paged(PinsByCreatorIdLoader)
HOME_FEED_PAGES = _paged(HomeFeedLoader)
SAVE_COUNTS = SaveCountByPinIdLoader.sql
COMMENT_COUNTS = CommentCountByPinIdLoader.sql
COMMENTS_PAGES = _paged(CommentsByPinIdLoader)

PROFILE_PINS = PageArgs(12, None)  # ProfilePage's `pins(first: 12)`
BOARD_PREVIEW = PageArgs(4, None)  # ProfilePage's `pins(first: 4)` per board


class FloorError(Exception):
    """A request the floor does not answer with data: its HTTP status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FloorRequest:
    """One request's connection and viewer, and the users fetched so far: like pinql's
    UserByIdLoader, a user id is fetched once per request (a missing one stays None)."""

    def __init__(self, conn: Connection, viewer: int | None) -> None:
        self.conn = conn
        self.viewer = viewer
        self.users: dict[int, asyncpg.Record | None] = {}

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Runs a viewer-scoped statement: the viewer is `$1`."""
        records: list[asyncpg.Record] = await self.conn.fetch(sql, self.viewer, *args)
        return records

    async def load_users(self, ids: Iterable[int]) -> None:
        """Fetches, in one statement, the users among `ids` not fetched yet (none: no SQL)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.users]
        if not missing:
            return
        self.users.update(dict.fromkeys(missing))
        for record in await self.fetch(USERS, missing):
            self.users[record["id"]] = record

    async def counts(
        self, sql: str, ids: list[int], *, viewer_scoped: bool = True
    ) -> dict[int, int]:
        """A count loader's statement for `ids` (none: no SQL), as {id: count}."""
        if not ids:
            return {}
        args = (self.viewer, ids) if viewer_scoped else (ids,)
        return {r[0]: r[1] for r in await self.conn.fetch(sql, *args)}

    async def count(self, sql: str, id: int, *, viewer_scoped: bool = True) -> int:
        """One id's count (0 where the statement returns none)."""
        return (await self.counts(sql, [id], viewer_scoped=viewer_scoped)).get(id, 0)

    async def pages(self, sql: str, keys: list[tuple[int, PageArgs]]) -> list[list[asyncpg.Record]]:
        """A page loader's statement: up to first+1 records per (parent, page) key."""
        if not keys:
            return []
        records = await self.fetch(
            sql,
            [parent for parent, _ in keys],
            [args.after for _, args in keys],
            [args.first + 1 for _, args in keys],
        )
        pages: list[list[asyncpg.Record]] = [[] for _ in keys]
        for record in records:
            pages[record["ord"] - 1].append(record)
        return pages

    async def viewer_follows(self, user_id: int) -> bool:
        """Whether the viewer follows the user (anonymous: False, no SQL)."""
        if self.viewer is None:
            return False
        return bool(await self.fetch(VIEWER_FOLLOWS, [user_id]))

    def user(self, id: int, *fields: str) -> Json | None:
        """A fetched user's `id` and the named fields (camelCase), or None."""
        record = self.users.get(id)
        if record is None:
            return None
        return {"id": encode_global_id("User", id), **{f: record[_COLUMN[f]] for f in fields}}

    def pin_card(self, r: asyncpg.Record, saves: dict[int, int], comments: dict[int, int]) -> Json:
        """The PinCard fragment of a pin record (with its board's `b_` columns)."""
        return {
            "id": encode_global_id("Pin", r["id"]),
            "title": r["title"],
            "image": {
                "url": r["image_url"],
                "width": r["image_width"],
                "height": r["image_height"],
                "dominantColor": r["dominant_color"],
            },
            "creator": self.user(r["creator_id"], "username", "displayName", "avatarUrl"),
            "board": {"id": encode_global_id("Board", r["b_id"]), "name": r["b_name"]},
            "saveCount": saves.get(r["id"], 0),
            "commentCount": comments.get(r["id"], 0),
        }


_COLUMN = {
    "username": "username",
    "displayName": "display_name",
    "avatarUrl": "avatar_url",
    "bio": "bio",
    "email": "email",
    "createdAt": "created_at",
}


def required(variables: Mapping[str, Any], name: str) -> str:
    """A required String or ID variable."""
    value = variables.get(name)
    if not isinstance(value, str):
        raise FloorError(400, f"variable {name} must be a string, got {value!r}")
    return value


def end_cursor(rows: list[asyncpg.Record]) -> str | None:
    return encode_cursor(rows[-1]["position"]) if rows else None
