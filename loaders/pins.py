"""Pin loaders: pins by id, pages of a board's, a creator's, the latest and the home feed's
pins, and their counts. Every statement joins the pin's board to apply the privacy rule, and
returns the board's columns too, priming BoardByIdLoader: `pin { board }` costs no query.
"""

from __future__ import annotations

from typing import Any, ClassVar

from db.privacy import VIEWER, board_visible
from db.waves import Row
from loaders.base import (
    AFTER,
    CountByIdLoader,
    PageByParentLoader,
    RowByIdLoader,
)
from loaders.boards import BoardByIdLoader
from loaders.rows import PIN_WIDTH, PinRow, board_columns, board_row, pin_columns, pin_row

# Select list and source of a pin the viewer may see, then its board's columns (prefix b_).
PIN_AND_BOARD = f"{pin_columns()}, {board_columns('b', prefix='b_')}"
PIN_WITH_BOARD = f"""
    {PIN_AND_BOARD}
    from pins p join boards b on b.id = p.board_id
"""


def _follows(user: str) -> str:
    """SQL predicate: the viewer follows `user` (an expression), one index probe per row."""
    return (
        f"coalesce((select true from follows f where f.follower_id = {VIEWER} "
        f"and f.followee_id = {user}), false)"
    )


class PrimesBoards:
    """Pin loaders build PinRows and hand the joined board to the BoardByIdLoader (once per
    board: the pins of a page often share theirs)."""

    primes: ClassVar[frozenset[str]] = frozenset({"board_by_id"})
    boards: BoardByIdLoader
    primed: set[int]

    def make_row(self, record: Row, at: int) -> PinRow:
        board_id = record[at + PIN_WIDTH]
        if board_id not in self.primed:
            self.primed.add(board_id)
            self.boards.prime(board_id, board_row(record, at + PIN_WIDTH))
        return pin_row(record, at)

    def clear_all(self) -> Any:
        """Forgets every pin (DataLoader.clear_all) and which boards were primed."""
        self.primed.clear()
        return super().clear_all()  # type: ignore[misc]


class PinByIdLoader(PrimesBoards, RowByIdLoader[PinRow]):
    """Pins by id, where the viewer may see them."""

    # Returns the visible pins (and their boards) with the given ids.
    sql = f"select {PIN_WITH_BOARD} where p.id = any($2::bigint[]) and {board_visible('b')}"

    def __init__(self, boards: BoardByIdLoader) -> None:
        super().__init__(boards.session, boards.viewer_id)
        self.boards = boards
        self.primed = set()


class _PinPageLoader(PrimesBoards, PageByParentLoader[PinRow]):
    def __init__(self, boards: BoardByIdLoader, counts: CountByIdLoader) -> None:
        super().__init__(boards.session, boards.viewer_id, counts)
        self.boards = boards
        self.primed = set()


class PinCountByBoardIdLoader(CountByIdLoader):
    """How many pins each board has (a board the viewer may not see counts 0)."""

    # Returns (board id, pin count) for the visible boards.
    sql = f"""
        select b.id, c.pins from boards b join board_counts c on c.board_id = b.id
        where b.id = any($2::bigint[]) and {board_visible("b")}
    """


class PinsByBoardIdLoader(_PinPageLoader):
    """Pages of a board's pins, newest first."""

    body = f"""
        select p.id as position, {PIN_WITH_BOARD}
        where p.board_id = k.parent_id and p.id < {AFTER} and {board_visible("b")}
        order by p.id desc limit k.lim
    """


class PinCountByCreatorIdLoader(CountByIdLoader):
    """How many pins each user created that the viewer may see: those on public boards, and
    the viewer's own on their secret boards (a pin's creator owns its board)."""

    # Returns (creator id, visible pin count).
    sql = f"""
        select c.user_id,
            c.public_pins + case when c.user_id = {VIEWER} then c.secret_pins else 0 end
        from user_counts c where c.user_id = any($2::bigint[])
    """


class PinsByCreatorIdLoader(_PinPageLoader):
    """Pages of the pins a user created that the viewer may see, newest first."""

    body = f"""
        select p.id as position, {PIN_WITH_BOARD}
        where p.creator_id = k.parent_id and p.id < {AFTER} and {board_visible("b")}
        order by p.id desc limit k.lim
    """


class SaveCountByPinIdLoader(CountByIdLoader):
    """How many times each pin was saved (repinned) onto boards the viewer may see
    (a pin the viewer may not see counts 0)."""

    # Returns (pin id, visible repin count) for the visible pins: the repins onto public
    # boards, and the viewer's own onto their secret boards (a repin's creator owns its board).
    sql = f"""
        select sp.id, c.public_saves + (
            select count(*) from pins p join boards b on b.id = p.board_id
            where p.creator_id = {VIEWER} and p.saved_from_id = sp.id and b.privacy = 'SECRET'
        )
        from pins sp join boards sb on sb.id = sp.board_id join pin_counts c on c.pin_id = sp.id
        where sp.id = any($2::bigint[]) and {board_visible("sb")}
    """


class LatestPinCountLoader(CountByIdLoader):
    """How many pins the viewer may see in all (key 0: the whole list)."""

    # Returns (0, visible pin count): the public pins, and the viewer's own on their secret
    # boards (a pin's creator owns its board).
    sql = f"""
        select 0, (select sum(t.public_pins)::bigint from pin_totals t) + coalesce(
            (select c.secret_pins from user_counts c where c.user_id = {VIEWER}), 0
        )
        where 0 = any($2::bigint[])
    """


class LatestPinsLoader(_PinPageLoader):
    """Pages of the latest pins the viewer may see (parent 0)."""

    body = f"""
        select p.id as position, {PIN_WITH_BOARD}
        where p.id < {AFTER} and {board_visible("b")}
        order by p.id desc limit k.lim
    """


class HomeFeedCountLoader(CountByIdLoader):
    """How many pins the viewer's home feed holds (key 0): the pins on public boards of each
    user the viewer follows, read from their counters (one row per followee, not one per
    pin). A followee's secret boards are never the viewer's (nobody follows themselves), so
    that is every pin of theirs the viewer may see."""

    # Returns (0, the sum of the followees' public pin counters).
    sql = f"""
        select 0, coalesce(sum(c.public_pins), 0)::bigint from follows f
        join user_counts c on c.user_id = f.followee_id
        where f.follower_id = {VIEWER} and 0 = any($2::bigint[])
    """


class HomeFeedLoader(_PinPageLoader):
    """Pages of the viewer's home feed (parent 0): pins by followed users, newest first.

    Read from the viewer's fanned-out feed rows (migration 0005: one index range, however many
    users the viewer follows), merged with the newest pins of the pulled users the viewer
    follows (creators with too many followers to fan out to; few in all). Each row is checked
    against the pin, its board's privacy and the follow, so the rows never decide what shows.
    An anonymous viewer follows nobody: its feed is empty (resolvers refuse it first).
    """

    # The follow checks are scalar subqueries, each run for one row, not EXISTS: the planner
    # would turn those into joins it may drive from the viewer's follows (reading every
    # followee's pins, thousands of them). So the feed's rows are walked newest first and
    # stop at the page, and the pulled users are the few pulled ones.
    body = f"""
        select u.* from (
            (select p.id as position, {PIN_AND_BOARD}
             from feed_items i join pins p on p.id = i.pin_id join boards b on b.id = p.board_id
             where i.user_id = {VIEWER} and i.pin_id < {AFTER} and {board_visible("b")}
               and {_follows("p.creator_id")}
             order by i.pin_id desc limit k.lim)
            union
            (select pulled.* from user_counts c
             cross join lateral (
                select p.id as position, {PIN_WITH_BOARD}
                where p.creator_id = c.user_id and p.id < {AFTER} and {board_visible("b")}
                order by p.id desc limit k.lim
             ) as pulled
             where c.pulled and {_follows("c.user_id")})
        ) as u
        order by u.position desc limit k.lim
    """
