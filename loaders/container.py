"""The per-request set of loaders, one per access pattern, all bound to one session and viewer;
each is built when a field first uses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiodataloader import DataLoader

from db.pool import Session
from loaders.base import PageByParentLoader, SqlLoader, batch_observer
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
from loaders.related import RelatedPinsLoader
from loaders.search import (
    DEFAULT_RANKING,
    Ranking,
    SearchBoardsLoader,
    SearchPinsLoader,
    SearchUsersLoader,
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
from loaders.waves import Planned


class Loaders:
    """Every loader of one request. Build one per request with `Loaders.build`, never share:
    they cache what one viewer may see. A loader is built on first use (`__getattr__`), so
    a request pays only for the loaders its query needs.

    A connection's `totalCount` uses a count loader of its own, never the one behind a count
    field (`followerCount`, `pinCount`, `commentCount`): sharing one would let the two merge
    into one statement or not depending on event-loop timing, which varies with list sizes,
    and a request's statement count must depend on its shape alone.
    """

    viewer_id: int | None
    session: Session
    planned: Planned | None
    """For the engine: the request's planned loading (loaders/waves.py)."""
    ranking: Ranking
    """The weights of search scores (loaders/search.py), from the settings."""
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
    search_pins: SearchPinsLoader
    search_boards: SearchBoardsLoader
    search_users: SearchUsersLoader
    related_pins: RelatedPinsLoader

    def __init__(
        self,
        session: Session,
        viewer_id: int | None,
        planned: Planned | None,
        ranking: Ranking = DEFAULT_RANKING,
    ) -> None:
        self.session = session
        self.viewer_id = viewer_id
        self.planned = planned
        self.ranking = ranking

    @classmethod
    def build(
        cls,
        session: Session,
        viewer_id: int | None,
        *,
        planned: bool = False,
        ranking: Ranking = DEFAULT_RANKING,
    ) -> Loaders:
        """Fresh loaders for one request of `viewer_id` (None: anonymous); `planned`: for
        the engine, loading a level of the query at a time (loaders/waves.py); `ranking`:
        the search weights."""
        return cls(
            session,
            viewer_id,
            Planned(session.fetch, batch_observer.get()) if planned else None,
            ranking,
        )

    async def run_wave(self) -> None:
        """Planned: loads every key asked for since the last wave, in one round trip."""
        assert self.planned is not None
        await self.planned.run_wave()

    def __getattr__(self, name: str) -> Any:
        """Builds a loader at its first use (later uses find it as an attribute)."""
        make = _MAKERS.get(name)
        if make is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        loader = make(self)
        loader.planned = self.planned
        if isinstance(loader, PageByParentLoader):
            loader.counts.planned = self.planned
        setattr(self, name, loader)
        return loader

    def clear(self) -> None:
        """Forgets everything loaded so far: after a write, later fields read the new state."""
        for loader in list(vars(self).values()):
            if isinstance(loader, DataLoader):
                loader.clear_all()
            if isinstance(loader, PageByParentLoader):  # its totalCount loader is its own
                loader.counts.clear_all()


_MAKERS: dict[str, Callable[[Loaders], SqlLoader[Any, Any]]] = {
    "user_by_id": lambda ls: UserByIdLoader(ls.session, ls.viewer_id),
    "user_by_username": lambda ls: UserByUsernameLoader(ls.user_by_id),
    "follower_count_by_user_id": lambda ls: FollowerCountByUserIdLoader(ls.session, ls.viewer_id),
    "following_count_by_user_id": lambda ls: FollowingCountByUserIdLoader(ls.session, ls.viewer_id),
    "followers_by_user_id": lambda ls: FollowersByUserIdLoader(
        ls.session, ls.viewer_id, FollowerCountByUserIdLoader(ls.session, ls.viewer_id)
    ),
    "following_by_user_id": lambda ls: FollowingByUserIdLoader(
        ls.session, ls.viewer_id, FollowingCountByUserIdLoader(ls.session, ls.viewer_id)
    ),
    "viewer_follows_by_user_id": lambda ls: ViewerFollowsByUserIdLoader(ls.session, ls.viewer_id),
    "board_by_id": lambda ls: BoardByIdLoader(ls.session, ls.viewer_id),
    "board_count_by_owner_id": lambda ls: BoardCountByOwnerIdLoader(ls.session, ls.viewer_id),
    "boards_by_owner_id": lambda ls: BoardsByOwnerIdLoader(
        ls.session, ls.viewer_id, ls.board_count_by_owner_id
    ),
    "pin_by_id": lambda ls: PinByIdLoader(ls.board_by_id),
    "pin_count_by_board_id": lambda ls: PinCountByBoardIdLoader(ls.session, ls.viewer_id),
    "pins_by_board_id": lambda ls: PinsByBoardIdLoader(
        ls.board_by_id, PinCountByBoardIdLoader(ls.session, ls.viewer_id)
    ),
    "pin_count_by_creator_id": lambda ls: PinCountByCreatorIdLoader(ls.session, ls.viewer_id),
    "pins_by_creator_id": lambda ls: PinsByCreatorIdLoader(
        ls.board_by_id, ls.pin_count_by_creator_id
    ),
    "save_count_by_pin_id": lambda ls: SaveCountByPinIdLoader(ls.session, ls.viewer_id),
    "latest_pin_count": lambda ls: LatestPinCountLoader(ls.session, ls.viewer_id),
    "latest_pins": lambda ls: LatestPinsLoader(ls.board_by_id, ls.latest_pin_count),
    "home_feed_count": lambda ls: HomeFeedCountLoader(ls.session, ls.viewer_id),
    "home_feed": lambda ls: HomeFeedLoader(ls.board_by_id, ls.home_feed_count),
    "comment_by_id": lambda ls: CommentByIdLoader(ls.session, ls.viewer_id),
    "comment_count_by_pin_id": lambda ls: CommentCountByPinIdLoader(ls.session, ls.viewer_id),
    "comments_by_pin_id": lambda ls: CommentsByPinIdLoader(
        ls.session, ls.viewer_id, CommentCountByPinIdLoader(ls.session, ls.viewer_id)
    ),
    "search_pins": lambda ls: SearchPinsLoader(ls.board_by_id, ls.ranking),
    "search_boards": lambda ls: SearchBoardsLoader(ls.board_by_id, ls.ranking),
    "search_users": lambda ls: SearchUsersLoader(ls.session, ls.viewer_id, ls.ranking),
    "related_pins": lambda ls: RelatedPinsLoader(ls.board_by_id, ls.ranking),
}
"""How each loader is built from the request's others (names as the attributes above)."""
