"""Comment loaders: comments by id, a pin's comments page and count (only on visible pins)."""

from __future__ import annotations

from db.privacy import board_visible
from db.waves import Row
from loaders.base import AFTER, CountByIdLoader, PageByParentLoader, RowByIdLoader
from loaders.rows import CommentRow, comment_columns, comment_row

# Source of comments with the pin and board that decide whether the viewer may see them.
COMMENTS_ON_VISIBLE_PINS = """
    comments c join pins p on p.id = c.pin_id join boards b on b.id = p.board_id
"""


class CommentByIdLoader(RowByIdLoader[CommentRow]):
    """Comments by id, where the viewer may see their pin."""

    # Returns the visible comments with the given ids.
    sql = f"""
        select {comment_columns()} from {COMMENTS_ON_VISIBLE_PINS}
        where c.id = any($2::bigint[]) and {board_visible("b")}
    """

    def make_row(self, record: Row, at: int) -> CommentRow:
        return comment_row(record, at)


class CommentCountByPinIdLoader(CountByIdLoader):
    """How many comments each pin has (a pin the viewer may not see counts 0)."""

    # Returns (pin id, comment count) for the visible pins.
    sql = f"""
        select p.id, c.comments
        from pins p join boards b on b.id = p.board_id join pin_counts c on c.pin_id = p.id
        where p.id = any($2::bigint[]) and {board_visible("b")}
    """


class CommentsByPinIdLoader(PageByParentLoader[CommentRow]):
    """Pages of a pin's comments, newest first."""

    body = f"""
        select c.id as position, {comment_columns()} from {COMMENTS_ON_VISIBLE_PINS}
        where c.pin_id = k.parent_id and c.id < {AFTER} and {board_visible("b")}
        order by c.id desc limit k.lim
    """

    def make_row(self, record: Row, at: int) -> CommentRow:
        return comment_row(record, at)
