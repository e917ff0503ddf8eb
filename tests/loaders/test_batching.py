"""Loaders batch: any number of keys is one statement, values come back in key order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, get_type_hints

import asyncpg
import pytest

from db.pool import Database
from loaders import Loaders
from loaders.base import RowByIdLoader, SqlLoader
from loaders.paging import Page, PageArgs
from loaders.rows import BoardRow
from loaders.search import SearchArgs, SearchPage
from tests.support import StatementLog

MISSING = 10**12


@pytest.fixture(scope="module")
async def logged_database(demo_database: str) -> AsyncIterator[tuple[Database, StatementLog]]:
    log = StatementLog()
    database = await Database.connect(demo_database, init=log.attach)
    yield database, log
    await database.close()


@pytest.fixture
async def loaders(logged_database: tuple[Database, StatementLog]) -> AsyncIterator[Loaders]:
    database, log = logged_database
    session = database.session()
    log.clear()
    yield Loaders.build(session, viewer_id=None)
    await session.close()


@pytest.fixture
def log(logged_database: tuple[Database, StatementLog]) -> StatementLog:
    return logged_database[1]


async def _ids(demo_database: str, sql: str) -> list[int]:
    conn = await asyncpg.connect(demo_database)
    try:
        return [r[0] for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_rows_by_id_are_one_statement_in_key_order(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    ids = await _ids(demo_database, "select id from users order by id desc limit 40")
    keys = [*ids, MISSING, ids[0]]
    users = await loaders.user_by_id.load_many(keys)
    assert log.count == 1
    assert [u.id if u else None for u in users] == [*ids, None, ids[0]]


async def test_loads_from_many_coroutines_in_one_tick_share_a_statement(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    ids = await _ids(demo_database, "select id from boards where privacy = 'PUBLIC' limit 25")
    boards = await asyncio.gather(*(loaders.board_by_id.load(i) for i in ids))
    assert log.count == 1
    assert [b.id for b in boards if b] == ids


async def test_cached_keys_cost_no_statement(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    ids = await _ids(demo_database, "select id from users limit 5")
    await loaders.user_by_id.load_many(ids)
    await loaders.user_by_id.load_many(ids)
    assert log.count == 1


async def test_pages_for_many_parents_are_one_statement(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    boards = await _ids(
        demo_database,
        "select b.id from boards b where b.privacy = 'PUBLIC' order by b.id limit 30",
    )
    pages = await loaders.pins_by_board_id.load_many([(b, PageArgs(5, None)) for b in boards])
    assert log.count == 1
    counts = await loaders.pin_count_by_board_id.load_many(boards)
    assert log.count == 2
    for board, page, count in zip(boards, pages, counts, strict=True):
        assert len(page.edges) == min(5, count)
        assert page.has_next_page == (count > 5)
        assert all(pin.board_id == board for pin in page.nodes)
        ids = [pin.id for pin in page.nodes]
        assert ids == sorted(ids, reverse=True)  # newest first


async def test_different_pages_of_one_parent_batch_together(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    [board] = await _ids(
        demo_database,
        "select board_id from pins p join boards b on b.id = p.board_id "
        "where b.privacy = 'PUBLIC' group by board_id order by count(*) desc limit 1",
    )
    first, second = await loaders.pins_by_board_id.load_many(
        [(board, PageArgs(2, None)), (board, PageArgs(3, None))]
    )
    assert log.count == 1
    assert len(first.edges) == 2
    assert len(second.edges) == 3
    assert first.nodes == second.nodes[:2]
    after = PageArgs(2, first.nodes[-1].id)
    following = await loaders.pins_by_board_id.load((board, after))
    assert following.nodes == second.nodes[2:3] + following.nodes[1:]


async def test_counts_are_one_statement_and_zero_for_missing_keys(
    loaders: Loaders, log: StatementLog, demo_database: str
) -> None:
    users = await _ids(demo_database, "select id from users order by id limit 30")
    expected = dict.fromkeys(users, 0)
    for (followee,) in [(r,) for r in await _ids(demo_database, "select followee_id from follows")]:
        if followee in expected:
            expected[followee] += 1
    counts = await loaders.follower_count_by_user_id.load_many([*users, MISSING])
    assert log.count == 1
    assert counts == [expected[u] for u in users] + [0]


async def test_a_request_without_sql_takes_no_connection(
    logged_database: tuple[Database, StatementLog],
) -> None:
    database, _ = logged_database
    idle = database.pool.get_idle_size()
    session = database.session()
    Loaders.build(session, viewer_id=None)
    assert database.pool.get_idle_size() == idle
    await session.close()


async def test_a_session_runs_all_its_statements_on_one_connection(
    logged_database: tuple[Database, StatementLog], demo_database: str
) -> None:
    database, _ = logged_database
    session = database.session()
    try:
        pids = {r[0] for r in await session.fetch("select pg_backend_pid()")}
        loaders = Loaders.build(session, viewer_id=None)
        await loaders.latest_pins.load((0, PageArgs(3, None)))
        pids |= {r[0] for r in await session.fetch("select pg_backend_pid()")}
        assert len(pids) == 1
    finally:
        await session.close()


_COMMON_WORD = "select lexeme from pin_terms group by 1 order by count(*) desc limit 1"
# The keys to ask each loader that declares `primes` (pages: their parents), and the column
# of a row it brings that is the row's key in each loader it primes.
PRIMING_KEYS: dict[str, str] = {
    "user_by_username": "select username from users order by id limit 3",
    "pin_by_id": "select p.id from pins p join boards b on b.id = p.board_id "
    "where b.privacy = 'PUBLIC' order by p.id limit 3",
    "pins_by_board_id": "select board_id from pins p join boards b on b.id = p.board_id "
    "where b.privacy = 'PUBLIC' group by 1 order by count(*) desc limit 1",
    "pins_by_creator_id": "select creator_id from pins group by 1 order by count(*) desc limit 1",
    "latest_pins": "select 0",
    "home_feed": "select 0",
    "search_pins": _COMMON_WORD,
    "search_boards": "select lexeme from board_terms group by 1 order by count(*) desc limit 1",
    "related_pins": "select p.id from pins p join boards b on b.id = p.board_id "
    "where b.privacy = 'PUBLIC' order by p.id desc limit 3",
}
PRIMED_KEY = {"user_by_id": "id", "board_by_id": "board_id"}


async def test_a_loader_fills_the_loaders_it_primes_with_what_it_brings(
    logged_database: tuple[Database, StatementLog], log: StatementLog, demo_database: str
) -> None:
    declaring = {
        name: loader
        for name, loader in get_type_hints(Loaders).items()
        if isinstance(loader, type) and issubclass(loader, SqlLoader) and loader.primes
    }
    assert set(declaring) == set(PRIMING_KEYS)
    [viewer] = await _ids(
        demo_database, "select follower_id from follows group by 1 order by count(*) desc limit 1"
    )
    for name, loader_class in declaring.items():
        found: list[Any] = await _ids(demo_database, PRIMING_KEYS[name])
        if issubclass(loader_class, RowByIdLoader) or name == "user_by_username":
            keys = found
        elif name.startswith("search_") or name == "related_pins":
            keys = [(key, SearchArgs(5, None)) for key in found]
        else:
            keys = [(parent, PageArgs(5, None)) for parent in found]
        session = logged_database[0].session()
        try:
            loaders = Loaders.build(session, viewer_id=viewer)
            values = await getattr(loaders, name).load_many(keys)
            rows = [
                row
                for v in values
                for row in (v.nodes if isinstance(v, Page | SearchPage) else [v])
            ]
            assert rows and None not in rows, name
            for primed in loader_class.primes:
                log.clear()
                await getattr(loaders, primed).load_many(
                    [
                        r.id if isinstance(r, BoardRow) else getattr(r, PRIMED_KEY[primed])
                        for r in rows
                    ]
                )
                assert log.count == 0, f"{name} did not prime {primed}: {log.statements}"
        finally:
            await session.close()
