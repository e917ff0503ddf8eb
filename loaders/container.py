"""The per-request set of loaders, one per access pattern, all bound to one session and viewer."""

from __future__ import annotations

from dataclasses import dataclass, fields

from aiodataloader import DataLoader

from db.pool import Session
from loaders.base import PageByParentLoader
from loaders.boards import BoardByIdLoader, BoardCountByOwnerIdLoader, BoardsByOwnerIdLoader
from loaders.comments import CommentByIdLoader, CommentCountByPinIdLoader, CommentsByPinIdLoader
from loaders.pins import (
    HomeFeedCountLoader,
    HomeFeedLoader,
    LatestPinCountLoader,
    LatestPinsLoader,
    PinByIdLoader,
    PinCountByBoardIdLoader,
    PinCountByCreatorIdLoader,
    PinsByBoardIdLoader,
    PinsByCreatorIdLoader,
    SaveCountByPinIdLoader,
)
from loaders.users import (
    FollowerCountByUserIdLoader,
    FollowersByUserIdLoader,
    FollowingByUserIdLoader,
    FollowingCountByUserIdLoader,
    UserByIdLoader,
    UserByUsernameLoader,
    ViewerFollowsByUserIdLoader,
)


@dataclass(frozen=True, slots=True)
class Loaders:
    """Every loader of one request. Build one per request with `Loaders.build`, never share:
    they cache what one viewer may see."""

    viewer_id: int | None
    user_by_id: UserByIdLoader
    user_by_username: UserByUsernameLoader
    follower_count_by_user_id: FollowerCountByUserIdLoader
    following_count_by_user_id: FollowingCountByUserIdLoader
    followers_by_user_id: FollowersByUserIdLoader
    following_by_user_id: FollowingByUserIdLoader
    viewer_follows_by_user_id: ViewerFollowsByUserIdLoader
    board_by_id: BoardByIdLoader
    board_count_by_owner_id: BoardCountByOwnerIdLoader
    boards_by_owner_id: BoardsByOwnerIdLoader
    pin_by_id: PinByIdLoader
    pin_count_by_board_id: PinCountByBoardIdLoader
    pins_by_board_id: PinsByBoardIdLoader
    pin_count_by_creator_id: PinCountByCreatorIdLoader
    pins_by_creator_id: PinsByCreatorIdLoader
    save_count_by_pin_id: SaveCountByPinIdLoader
    latest_pin_count: LatestPinCountLoader
    latest_pins: LatestPinsLoader
    home_feed_count: HomeFeedCountLoader
    home_feed: HomeFeedLoader
    comment_by_id: CommentByIdLoader
    comment_count_by_pin_id: CommentCountByPinIdLoader
    comments_by_pin_id: CommentsByPinIdLoader

    def clear(self) -> None:
        """Forgets everything loaded so far: after a write, later fields read the new state."""
        for field in fields(self):
            loader = getattr(self, field.name)
            if isinstance(loader, DataLoader):
                loader.clear_all()
            if isinstance(loader, PageByParentLoader):  # its totalCount loader is its own
                loader.counts.clear_all()

    @classmethod
    def build(cls, session: Session, viewer_id: int | None) -> Loaders:
        """Fresh loaders for one request of `viewer_id` (None: anonymous).

        A connection's `totalCount` uses a count loader of its own, never the one behind a
        count field (`followerCount`, `pinCount`, `commentCount`): sharing one would let the
        two merge into one statement or not depending on event-loop timing, which varies with
        list sizes, and a request's statement count must depend on its shape alone.
        """
        users = UserByIdLoader(session, viewer_id)
        follower_count = FollowerCountByUserIdLoader(session, viewer_id)
        following_count = FollowingCountByUserIdLoader(session, viewer_id)
        boards = BoardByIdLoader(session, viewer_id)
        board_count = BoardCountByOwnerIdLoader(session, viewer_id)
        pin_count_by_board = PinCountByBoardIdLoader(session, viewer_id)
        pin_count_by_creator = PinCountByCreatorIdLoader(session, viewer_id)
        latest_count = LatestPinCountLoader(session, viewer_id)
        feed_count = HomeFeedCountLoader(session, viewer_id)
        comment_count = CommentCountByPinIdLoader(session, viewer_id)
        return cls(
            viewer_id=viewer_id,
            user_by_id=users,
            user_by_username=UserByUsernameLoader(users),
            follower_count_by_user_id=follower_count,
            following_count_by_user_id=following_count,
            followers_by_user_id=FollowersByUserIdLoader(
                session, viewer_id, FollowerCountByUserIdLoader(session, viewer_id)
            ),
            following_by_user_id=FollowingByUserIdLoader(
                session, viewer_id, FollowingCountByUserIdLoader(session, viewer_id)
            ),
            viewer_follows_by_user_id=ViewerFollowsByUserIdLoader(session, viewer_id),
            board_by_id=boards,
            board_count_by_owner_id=board_count,
            boards_by_owner_id=BoardsByOwnerIdLoader(session, viewer_id, board_count),
            pin_by_id=PinByIdLoader(boards),
            pin_count_by_board_id=pin_count_by_board,
            pins_by_board_id=PinsByBoardIdLoader(
                boards, PinCountByBoardIdLoader(session, viewer_id)
            ),
            pin_count_by_creator_id=pin_count_by_creator,
            pins_by_creator_id=PinsByCreatorIdLoader(boards, pin_count_by_creator),
            save_count_by_pin_id=SaveCountByPinIdLoader(session, viewer_id),
            latest_pin_count=latest_count,
            latest_pins=LatestPinsLoader(boards, latest_count),
            home_feed_count=feed_count,
            home_feed=HomeFeedLoader(boards, feed_count),
            comment_by_id=CommentByIdLoader(session, viewer_id),
            comment_count_by_pin_id=comment_count,
            comments_by_pin_id=CommentsByPinIdLoader(
                session, viewer_id, CommentCountByPinIdLoader(session, viewer_id)
            ),
        )
