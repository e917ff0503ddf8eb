"""One floor request: the loaders' SQL statements, sent wave by wave on one connection as one
viewer, and the pieces every floor operation builds its JSON from.

As on pinql's engine, the statements of one level of a query go to PostgreSQL together:
an operation gathers (`asyncio.gather`) one level's helpers in pinql's order, and each helper
sends its statement through the request's `Wave` (db/waves.py), which combines those of the
same event-loop turn into one statement (one alone is sent as it is). A helper with nothing
to fetch sends no SQL. Rows come back as asyncpg Records (a statement alone) or tuples (a
combined one): they are read by position, with the column positions below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from db.pool import Connection
from db.waves import Row, Wave
from loaders.base import PAGED_SQL, PageByParentLoader
from loaders.boards import BoardByIdLoader, BoardCountByOwnerIdLoader, BoardsByOwnerIdLoader
from loaders.comments import CommentByIdLoader, CommentCountByPinIdLoader, CommentsByPinIdLoader
from loaders.paging import PageArgs
from loaders.pins import (
    HomeFeedLoader,
    LatestPinsLoader,
    PinByIdLoader,
    PinCountByBoardIdLoader,
    PinsByBoardIdLoader,
    PinsByCreatorIdLoader,
    SaveCountByPinIdLoader,
)
from loaders.related import RelatedPinsLoader
from loaders.rows import PIN_WIDTH
from loaders.search import (
    DEFAULT_RANKING,
    SearchArgs,
    SearchBoardsLoader,
    SearchPinsLoader,
    SearchUsersLoader,
    ranked_arguments,
)
from loaders.users import (
    FollowerCountByUserIdLoader,
    FollowingCountByUserIdLoader,
    UserByIdLoader,
    UserByUsernameLoader,
    ViewerFollowsByUserIdLoader,
)
from resolvers.cursors import encode_cursor
from resolvers.ids import encode_global_id

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
LATEST_PAGES = _paged(LatestPinsLoader)
SAVE_COUNTS = SaveCountByPinIdLoader.sql
COMMENTS = CommentByIdLoader.sql
COMMENT_COUNTS = CommentCountByPinIdLoader.sql
COMMENTS_PAGES = _paged(CommentsByPinIdLoader)
SEARCH_PINS = SearchPinsLoader.sql
SEARCH_BOARDS = SearchBoardsLoader.sql
SEARCH_USERS = SearchUsersLoader.sql
RELATED_PINS = RelatedPinsLoader.sql

PROFILE_PINS = PageArgs(12, None)  # ProfilePage's `pins(first: 12)`
BOARD_PREVIEW = PageArgs(4, None)  # ProfilePage's `pins(first: 4)` per board

# Column positions (loaders/rows.py). A user row (user_columns):
U_ID, U_USERNAME, U_DISPLAY_NAME, U_EMAIL, U_BIO, U_AVATAR_URL, U_CREATED_AT = range(7)
# A board row (board_columns; privacy as text):
B_ID, B_OWNER_ID, B_NAME, B_DESCRIPTION, B_PRIVACY, B_CREATED_AT = range(6)
# A pin row (pin_columns), then its board's columns (PIN_WITH_BOARD), from PIN_WIDTH on:
P_ID, P_BOARD_ID, P_CREATOR_ID, P_TITLE, P_DESCRIPTION, P_LINK = range(6)
P_IMAGE_URL, P_IMAGE_WIDTH, P_IMAGE_HEIGHT, P_DOMINANT_COLOR = range(6, 10)
P_SAVED_FROM_ID, P_CREATED_AT = range(10, 12)
P_BOARD = PIN_WIDTH
# A comment row (comment_columns):
C_ID, C_PIN_ID, C_AUTHOR_ID, C_TEXT, C_CREATED_AT = range(5)
# A paged row (PAGED_SQL): the key's ordinal, the keyset position, then the row from ROW on.
ORD, POSITION, ROW = range(3)
# A ranked row (loaders/search.py): the key's ordinal, score, bound, then the row from RANKED.
SCORE, BOUND, RANKED = range(1, 4)


class FloorError(Exception):
    """A request the floor does not answer with data: its HTTP status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FloorRequest:
    """One request's connection, wave and viewer, and the users fetched so far: like pinql's
    UserByIdLoader, a user id is fetched once per request (a missing one stays None)."""

    def __init__(self, conn: Connection, viewer: int | None) -> None:
        self.conn = conn
        self.wave = Wave(conn.fetch)
        self.viewer = viewer
        self.users: dict[int, Row | None] = {}

    async def fetch(self, sql: str, *args: Any) -> Sequence[Row]:
        """Runs a viewer-scoped statement (the viewer is `$1`) with this turn's others."""
        return await self.wave.fetch(sql, self.viewer, *args)

    async def rows(self, sql: str, ids: list[int]) -> Sequence[Row]:
        """A row-by-id loader's statement for `ids` (none: no SQL)."""
        if not ids:
            return ()
        return await self.fetch(sql, ids)

    async def load_users(self, ids: Iterable[int]) -> None:
        """Fetches, in one statement, the users among `ids` not fetched yet (none: no SQL)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.users]
        if not missing:
            return
        self.users.update(dict.fromkeys(missing))
        for row in await self.fetch(USERS, missing):
            self.users[row[U_ID]] = row

    async def counts(
        self, sql: str, ids: list[int], *, viewer_scoped: bool = True
    ) -> dict[int, int]:
        """A count loader's statement for `ids` (none: no SQL), as {id: count}; a statement
        not viewer-scoped takes its keys from `$1`."""
        if not ids:
            return {}
        rows = await (self.fetch(sql, ids) if viewer_scoped else self.wave.fetch(sql, ids))
        return {r[0]: r[1] for r in rows}

    async def count(self, sql: str, id: int, *, viewer_scoped: bool = True) -> int:
        """One id's count (0 where the statement returns none)."""
        return (await self.counts(sql, [id], viewer_scoped=viewer_scoped)).get(id, 0)

    async def pages(self, sql: str, keys: list[tuple[int, PageArgs]]) -> list[list[Row]]:
        """A page loader's statement: up to first+1 paged rows per (parent, page) key (no
        keys: no SQL)."""
        if not keys:
            return []
        rows = await self.fetch(
            sql,
            [parent for parent, _ in keys],
            [args.after for _, args in keys],
            [args.first + 1 for _, args in keys],
        )
        pages: list[list[Row]] = [[] for _ in keys]
        for row in rows:
            pages[row[ORD] - 1].append(row)
        return pages

    async def page(self, sql: str, parent: int, args: PageArgs) -> list[Row]:
        """One parent's page (`pages` with one key)."""
        (rows,) = await self.pages(sql, [(parent, args)])
        return rows

    async def ranked(self, sql: str, key: Any, args: SearchArgs) -> list[Row]:
        """A search (or related pins) loader's statement for one key: up to first+1 ranked
        rows, with the default weights (the benchmark sets none)."""
        return list(await self.fetch(sql, *ranked_arguments([(key, args)], DEFAULT_RANKING)))

    async def viewer_follows(self, ids: list[int]) -> set[int]:
        """The users among `ids` the viewer follows (anonymous or no ids: none, no SQL)."""
        if self.viewer is None or not ids:
            return set()
        return {r[0] for r in await self.fetch(VIEWER_FOLLOWS, ids)}

    def user(self, id: int, *fields: str) -> Json | None:
        """A fetched user's `id` and the named fields (camelCase), or None."""
        row = self.users.get(id)
        if row is None:
            return None
        return {"id": encode_global_id("User", id), **{f: row[_COLUMN[f]] for f in fields}}

    def username(self, id: int) -> Json | None:
        """A fetched user as `{"username": ...}` (a field selecting only that), or None."""
        row = self.users.get(id)
        return None if row is None else {"username": row[U_USERNAME]}

    def pin_card(
        self, r: Row, saves: dict[int, int], comments: dict[int, int], at: int = ROW
    ) -> Json:
        """The PinCard fragment of a paged pin row (its board's columns after the pin's),
        the pin's columns from `r[at]` on."""
        pin_id = r[at + P_ID]
        return {
            "id": encode_global_id("Pin", pin_id),
            "title": r[at + P_TITLE],
            "image": {
                "url": r[at + P_IMAGE_URL],
                "width": r[at + P_IMAGE_WIDTH],
                "height": r[at + P_IMAGE_HEIGHT],
                "dominantColor": r[at + P_DOMINANT_COLOR],
            },
            "creator": self.user(r[at + P_CREATOR_ID], "username", "displayName", "avatarUrl"),
            "board": {
                "id": encode_global_id("Board", r[at + P_BOARD + B_ID]),
                "name": r[at + P_BOARD + B_NAME],
            },
            "saveCount": saves.get(pin_id, 0),
            "commentCount": comments.get(pin_id, 0),
        }


FloorOperation = Callable[[FloorRequest, Mapping[str, Any]], Awaitable[Json]]
"""A floor: the request and the operation's variables to the response's `data`."""

_COLUMN = {
    "username": U_USERNAME,
    "displayName": U_DISPLAY_NAME,
    "avatarUrl": U_AVATAR_URL,
    "bio": U_BIO,
    "email": U_EMAIL,
    "createdAt": U_CREATED_AT,
}


def required(variables: Mapping[str, Any], name: str) -> str:
    """A required String or ID variable."""
    value = variables.get(name)
    if not isinstance(value, str):
        raise FloorError(400, f"variable {name} must be a string, got {value!r}")
    return value


def cursor(row: Row) -> str:
    """A paged row's cursor."""
    return encode_cursor(row[POSITION])


def end_cursor(rows: list[Row]) -> str | None:
    return cursor(rows[-1]) if rows else None
