"""Privacy in the loaders themselves, without Strawberry: what any caller of `Loaders` gets.

The rules of tests/schema/test_privacy.py again, one level down: a SECRET board, its pins
and their comments exist only for the owner, in rows, pages and counts, whatever the key;
`email` only on the viewer's own user row. Expectations come from tests/world.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from db.pool import Database, Session
from loaders import Loaders
from loaders.paging import Page, PageArgs
from loaders.rows import BoardPrivacy
from tests import world
from tests.world import ADA, OLIVE, OLIVE_SECRET, OTTO, P1, P2, P3, USERNAMES

Viewer = int | None
VIEWER_NAMES = {OLIVE: "olive", OTTO: "otto", ADA: "ada", None: "anonymous"}
ALL = PageArgs(100, None)
MISSING = 999  # no row of any type has this id


@pytest.fixture(scope="module")
async def database(world_database: str) -> AsyncIterator[Database]:
    """A pool on the hand-made world, as the app's lifespan would open it."""
    database = await Database.connect(world_database, min_size=1, max_size=2)
    yield database
    await database.close()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[Session]:
    """One request's session, closed after the test."""
    session = database.session()
    yield session
    await session.close()


@pytest.fixture(params=world.VIEWERS, ids=VIEWER_NAMES.get)
def viewer(request: pytest.FixtureRequest) -> Viewer:
    """Each viewer in turn: olive, otto, ada, anonymous."""
    value: Viewer = request.param
    return value


@pytest.fixture
def loaders(session: Session, viewer: Viewer) -> Loaders:
    """The loaders of one request of `viewer`."""
    return Loaders.build(session, viewer)


def ids(rows: Sequence[Any]) -> list[int | None]:
    """The ids of rows, None for a missing row."""
    return [None if row is None else row.id for row in rows]


def shown(keys: Sequence[int], visible: set[int]) -> list[int | None]:
    """What a by-id loader must answer for `keys`: the key where visible, else None."""
    return [k if k in visible else None for k in keys]


async def listing(page: Page[Any]) -> tuple[list[int], int]:
    """A page's row ids and its totalCount."""
    return [row.id for row in page.nodes], await page.count()


# ---- rows by id --------------------------------------------------------------------------------


async def test_secret_pin_by_id_only_for_its_owner(loaders: Loaders, viewer: Viewer) -> None:
    pin = await loaders.pin_by_id.load(P2)
    if viewer != OLIVE:
        assert pin is None
        return
    assert pin is not None
    assert (pin.id, pin.board_id, pin.creator_id, pin.title) == (P2, OLIVE_SECRET, OLIVE, "pin 2")


async def test_boards_by_id(loaders: Loaders, viewer: Viewer) -> None:
    keys = [*world.BOARD_OWNER, MISSING]
    boards = await loaders.board_by_id.load_many(keys)
    assert ids(boards) == shown(keys, world.visible_boards(viewer))
    for board in boards:
        if board is not None:
            secret = board.id in world.SECRET_BOARDS
            assert board.privacy is (BoardPrivacy.SECRET if secret else BoardPrivacy.PUBLIC)
            assert board.owner_id == world.BOARD_OWNER[board.id]


async def test_pins_by_id_keep_key_order(loaders: Loaders, viewer: Viewer) -> None:
    keys = [P2, *sorted(world.PIN_BOARD, reverse=True), MISSING, P2]
    assert ids(await loaders.pin_by_id.load_many(keys)) == shown(keys, world.visible_pins(viewer))


async def test_comments_by_id(loaders: Loaders, viewer: Viewer) -> None:
    keys = [*world.COMMENT_PIN, MISSING]
    comments = await loaders.comment_by_id.load_many(keys)
    assert ids(comments) == shown(keys, world.visible_comments(viewer))


async def test_saved_from_through_pin_by_id(loaders: Loaders, viewer: Viewer) -> None:
    """What `savedFrom` resolves to: the source pin only where the viewer may see it
    (P3, otto's public repin of olive's secret P2, has a source for olive only). A row does
    not even carry the id of a hidden source."""
    repins = [p for p in sorted(world.SAVED_FROM) if p in world.visible_pins(viewer)]
    rows = [row for row in await loaders.pin_by_id.load_many(repins) if row is not None]
    expected = [world.saved_from(p, viewer) for p in repins]
    assert [row.id for row in rows] == repins
    assert [row.saved_from_id for row in rows] == expected
    sources = await loaders.pin_by_id.load_many([world.SAVED_FROM[p] for p in repins])
    assert ids(sources) == expected
    assert world.saved_from(P3, viewer) == (P2 if viewer == OLIVE else None)


async def test_email_only_on_the_viewers_own_row(loaders: Loaders, viewer: Viewer) -> None:
    users = await loaders.user_by_id.load_many(list(USERNAMES))
    by_name = await loaders.user_by_username.load_many(list(USERNAMES.values()))
    expected = [world.email(u) if u == viewer else None for u in USERNAMES]
    assert [u.email if u else "missing" for u in users] == expected
    assert [u.email if u else "missing" for u in by_name] == expected


# ---- pages and their totalCount --------------------------------------------------------------


async def test_secret_board_pins_page(loaders: Loaders, viewer: Viewer) -> None:
    page = await loaders.pins_by_board_id.load((OLIVE_SECRET, PageArgs(10, None)))
    expected = world.pins_on(OLIVE_SECRET, OLIVE) if viewer == OLIVE else []
    assert await listing(page) == (expected, len(expected))
    assert page.has_next_page is False


async def test_pins_pages_of_every_board(loaders: Loaders, viewer: Viewer) -> None:
    pages = await loaders.pins_by_board_id.load_many([(b, ALL) for b in world.BOARD_OWNER])
    got = [await listing(page) for page in pages]
    expected = [world.pins_on(b, viewer) for b in world.BOARD_OWNER]
    assert got == [(pins, len(pins)) for pins in expected]


async def test_first_page_of_a_secret_board_says_more_follow_only_to_its_owner(
    loaders: Loaders, viewer: Viewer
) -> None:
    page = await loaders.pins_by_board_id.load((OLIVE_SECRET, PageArgs(1, None)))
    owner_sees = world.pins_on(OLIVE_SECRET, OLIVE)
    if viewer == OLIVE:
        assert await listing(page) == (owner_sees[:1], len(owner_sees))
        assert page.has_next_page is True
    else:
        assert await listing(page) == ([], 0)
        assert page.has_next_page is False


async def test_boards_pages_of_every_user(loaders: Loaders, viewer: Viewer) -> None:
    pages = await loaders.boards_by_owner_id.load_many([(u, ALL) for u in USERNAMES])
    got = [await listing(page) for page in pages]
    expected = [world.boards_of(u, viewer) for u in USERNAMES]
    assert got == [(boards, len(boards)) for boards in expected]


async def test_pins_pages_of_every_creator(loaders: Loaders, viewer: Viewer) -> None:
    pages = await loaders.pins_by_creator_id.load_many([(u, ALL) for u in USERNAMES])
    got = [await listing(page) for page in pages]
    expected = [world.pins_by(u, viewer) for u in USERNAMES]
    assert got == [(pins, len(pins)) for pins in expected]


async def test_comments_pages_of_every_pin(loaders: Loaders, viewer: Viewer) -> None:
    """Keys are every pin, hidden ones included: their comments are no one's but the owner's."""
    pages = await loaders.comments_by_pin_id.load_many([(p, ALL) for p in world.PIN_BOARD])
    got = [await listing(page) for page in pages]
    expected = [world.comments_on(p, viewer) for p in world.PIN_BOARD]
    assert got == [(comments, len(comments)) for comments in expected]


async def test_latest_pins(loaders: Loaders, viewer: Viewer) -> None:
    page = await loaders.latest_pins.load((0, ALL))
    expected = world.newest_first(world.visible_pins(viewer))
    assert await listing(page) == (expected, len(expected))
    assert await loaders.latest_pin_count.load(0) == len(expected)


async def test_latest_pins_after_a_secret_pin(loaders: Loaders, viewer: Viewer) -> None:
    """A cursor at a hidden pin's position only bounds the keyset: nothing hidden comes out."""
    page = await loaders.latest_pins.load((0, PageArgs(100, P2)))
    expected = [p for p in world.newest_first(world.visible_pins(viewer)) if p < P2]
    assert [row.id for row in page.nodes] == expected
    assert page.has_previous_page is True


async def test_home_feed(loaders: Loaders, viewer: Viewer) -> None:
    """An anonymous viewer follows nobody: an empty feed (the resolver refuses it first)."""
    page = await loaders.home_feed.load((0, ALL))
    feed = [] if viewer is None else world.home_feed(viewer)
    assert await listing(page) == (feed, len(feed))
    assert await loaders.home_feed_count.load(0) == len(feed)


# ---- counts ------------------------------------------------------------------------------------


async def test_pin_count_by_board(loaders: Loaders, viewer: Viewer) -> None:
    counts = await loaders.pin_count_by_board_id.load_many([*world.BOARD_OWNER, MISSING])
    assert counts == [len(world.pins_on(b, viewer)) for b in world.BOARD_OWNER] + [0]


async def test_board_and_pin_counts_by_user(loaders: Loaders, viewer: Viewer) -> None:
    users = [*USERNAMES, MISSING]
    assert await loaders.board_count_by_owner_id.load_many(users) == [
        len(world.boards_of(u, viewer)) for u in USERNAMES
    ] + [0]
    assert await loaders.pin_count_by_creator_id.load_many(users) == [
        len(world.pins_by(u, viewer)) for u in USERNAMES
    ] + [0]


async def test_comment_count_by_pin(loaders: Loaders, viewer: Viewer) -> None:
    counts = await loaders.comment_count_by_pin_id.load_many(list(world.PIN_BOARD))
    assert counts == [len(world.comments_on(p, viewer)) for p in world.PIN_BOARD]


async def test_save_count_of_visible_pins(loaders: Loaders, viewer: Viewer) -> None:
    """P1's repin on olive's secret board counts for olive only."""
    visible = world.newest_first(world.visible_pins(viewer))
    counts = await loaders.save_count_by_pin_id.load_many(visible)
    assert counts == [world.save_count(p, viewer) for p in visible]
    assert await loaders.save_count_by_pin_id.load(P1) == (2 if viewer == OLIVE else 1)


async def test_save_count_of_a_hidden_pin_is_zero(loaders: Loaders, viewer: Viewer) -> None:
    """A pin the viewer may not see does not exist for it: it counts 0, like its pins and
    comments do (P2 and P6 are secret pins that were repinned onto public boards)."""
    hidden = sorted(set(world.PIN_BOARD) - world.visible_pins(viewer))
    assert await loaders.save_count_by_pin_id.load_many(hidden) == [0] * len(hidden)


async def test_follow_counts_and_state_ignore_privacy(loaders: Loaders, viewer: Viewer) -> None:
    users = list(USERNAMES)
    assert await loaders.follower_count_by_user_id.load_many(users) == [
        len(world.followers_of(u)) for u in users
    ]
    assert await loaders.following_count_by_user_id.load_many(users) == [
        len(world.followed_by(u)) for u in users
    ]
    assert await loaders.viewer_follows_by_user_id.load_many(users) == [
        (viewer, u) in world.FOLLOWS for u in users
    ]
    followers = await loaders.followers_by_user_id.load_many([(u, ALL) for u in users])
    assert [await listing(page) for page in followers] == [
        (world.followers_of(u), len(world.followers_of(u))) for u in users
    ]


# ---- loaders are per viewer ------------------------------------------------------------------


async def test_what_one_viewer_loaded_never_reaches_another(session: Session) -> None:
    """Two requests on one session: olive's cached secret rows stay in olive's loaders."""
    olive, otto = Loaders.build(session, OLIVE), Loaders.build(session, OTTO)
    assert ids(await olive.pin_by_id.load_many([P2, P3])) == [P2, P3]
    assert ids(await olive.board_by_id.load_many([OLIVE_SECRET])) == [OLIVE_SECRET]
    assert ids(await otto.pin_by_id.load_many([P2, P3])) == [None, P3]
    assert ids(await otto.board_by_id.load_many([OLIVE_SECRET])) == [None]
    own = await olive.user_by_id.load(OLIVE)
    seen_by_otto = await otto.user_by_id.load(OLIVE)
    assert own is not None and own.email == world.email(OLIVE)
    assert seen_by_otto is not None and seen_by_otto.email is None
