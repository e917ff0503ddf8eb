"""Board loaders: boards by id, a user's boards page and count (secret ones only for the owner)."""

from __future__ import annotations

from db.privacy import board_visible
from db.waves import Row
from loaders.base import AFTER, CountByIdLoader, PageByParentLoader, RowByIdLoader
from loaders.rows import BoardRow, board_columns, board_row


class BoardByIdLoader(RowByIdLoader[BoardRow]):
    """Boards by id, where the viewer may see them."""

    # Returns the visible boards with the given ids.
    sql = f"""
        select {board_columns()} from boards b
        where b.id = any($2::bigint[]) and {board_visible("b")}
    """

    def make_row(self, record: Row, at: int) -> BoardRow:
        return board_row(record, at)


class BoardCountByOwnerIdLoader(CountByIdLoader):
    """How many boards of each user the viewer may see."""

    # Returns (owner id, visible board count).
    sql = f"""
        select k.id, (
            select count(*) from boards b where b.owner_id = k.id and {board_visible("b")}
        ) from unnest($2::bigint[]) as k(id)
    """


class BoardsByOwnerIdLoader(PageByParentLoader[BoardRow]):
    """Pages of a user's boards the viewer may see, newest first."""

    body = f"""
        select b.id as position, {board_columns()} from boards b
        where b.owner_id = k.parent_id and b.id < {AFTER} and {board_visible("b")}
        order by b.id desc limit k.lim
    """

    def make_row(self, record: Row, at: int) -> BoardRow:
        return board_row(record, at)
