"""`python -m bench.inprocess` (bench/inprocess.py): a benchmarked request driven N times
through an app in this process, with its statuses, a body and the time it took."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from bench.dataset import pick_subjects
from bench.floor import floor_app
from bench.inprocess import drive, parse_args
from bench.operations import operations, register_client
from resolvers.ids import encode_global_id
from server.app import create_app
from server.auth import issue_token
from server.settings import Settings
from tests.support import SECRET


async def test_the_floor_and_pinql_answer_every_driven_request(demo_database: str) -> None:
    subjects = await pick_subjects(demo_database)
    key = await asyncio.to_thread(register_client, demo_database)
    sent = operations(subjects)["board"].requests(issue_token(subjects.viewer, SECRET, 600), key)
    pinql = create_app(
        Settings.model_validate(
            {
                "DATABASE_URL": demo_database,
                "PINQL_SECRET": SECRET,
                "PINQL_GC_TUNING": False,
                "REDIS_URL": None,
            }
        )
    )
    board = encode_global_id("Board", subjects.board)

    for app, variant in ((floor_app(demo_database, SECRET), "floor"), (pinql, "text")):
        driven = await drive(app, sent[variant], n=6, concurrency=2, warmup=2)

        assert driven.requests == 6
        assert driven.statuses == {200: 6}  # the warm-up's are not counted
        assert orjson.loads(driven.last_body)["data"]["board"]["id"] == board
        assert driven.cpu_seconds > 0
        assert driven.wall_seconds > 0
        assert driven.cpu_us_per_request == pytest.approx(driven.cpu_seconds / 6 * 1e6)


@pytest.mark.parametrize(("n", "concurrency", "warmup"), [(0, 1, 0), (1, 0, 0), (1, 1, -1)])
async def test_nothing_is_driven_with_a_count_out_of_range(
    demo_database: str, n: int, concurrency: int, warmup: int
) -> None:
    subjects = await pick_subjects(demo_database)
    request = operations(subjects)["board"].requests("token", "key")["floor"]
    with pytest.raises(ValueError, match="must be >= 1"):
        await drive(floor_app(demo_database, SECRET), request, n, concurrency, warmup)


def test_the_command_line_defaults_to_the_board_page_by_hash() -> None:
    args = parse_args([])
    assert (args.operation, args.variant, args.n, args.concurrency) == ("board", "hash", 400, 8)
    assert parse_args(["--operation", "nodes"]).operation == "nodes"
    with pytest.raises(SystemExit):
        parse_args(["--variant", "nope"])
    with pytest.raises(SystemExit):
        parse_args(["--operation", "addComment"])
