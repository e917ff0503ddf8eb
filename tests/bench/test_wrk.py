"""The benchmark's arithmetic: interleaved rounds of one row add up to one result; and wrk
waits for a slow operation's answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.counters import Counts
from bench.meters import Usage
from bench.run import in_turn
from bench.wrk import TIMEOUT_SECONDS, WrkResult, combined, wrk_command
from server.settings import Settings


def _run(requests: int, seconds: float, p50: float, p99: float, bad: int = 0) -> WrkResult:
    return WrkResult(
        requests_per_second=requests / seconds,
        p50_ms=p50,
        p95_ms=(p50 + p99) / 2,
        p99_ms=p99,
        requests=requests,
        seconds=seconds,
        non_2xx=0,
        socket_errors=0,
        good_bodies=requests - bad,
        bad_bodies=bad,
        command="wrk ...",
    )


def test_rounds_add_their_requests_and_time_and_average_their_percentiles() -> None:
    one = combined([_run(1000, 5.0, 50.0, 100.0), _run(2000, 5.0, 30.0, 80.0, bad=3)])

    assert (one.requests, one.seconds) == (3000, 10.0)
    assert one.requests_per_second == pytest.approx(300.0)  # not the mean of 200 and 400
    assert (one.p50_ms, one.p99_ms) == (40.0, 90.0)
    assert one.bad_bodies == 3 and one.good_bodies == 2997
    assert one.failures == ["3 responses without data or with errors"]


def test_one_round_is_itself() -> None:
    run = _run(10, 1.0, 1.0, 2.0)
    assert combined([run]) is run


def test_usages_of_rounds_add_up_per_request() -> None:
    first = Usage(5.0, Counts(1000, 3000), 2.0, 1.5, 0.3, 0.1, {1: 80}, 1.0)
    later = Usage(5.0, Counts(3000, 9000), 4.0, 2.5, 0.3, 0.1, {1: 82}, 2.0)

    both = first + later

    assert both.counts == Counts(4000, 12000)
    assert both.per_request_ms(both.server_cpu) == pytest.approx(1.5)
    assert both.statements_per_request == 3.0
    assert (both.rss, both.load) == ({1: 82}, 2.0)


def test_a_round_without_responses_does_not_weigh_on_the_latencies() -> None:
    """A slow operation's short round may see no response: wrk reports zeros for it."""
    one = combined([_run(8, 3.0, 1400.0, 1900.0), _run(0, 3.0, 0.0, 0.0)])

    assert (one.requests, one.p50_ms, one.p99_ms) == (8, 1400.0, 1900.0)
    assert one.requests_per_second == pytest.approx(8 / 6)
    assert combined([_run(0, 3.0, 0.0, 0.0), _run(0, 3.0, 0.0, 0.0)]).failures == [
        "no good response at all"
    ]


def test_wrk_waits_for_a_response_longer_than_the_server_takes_to_give_up() -> None:
    """A request that waited for a pool connection, then ran to the operation's deadline,
    is answered (503 or 504: an error of the row) before wrk stops waiting for it."""
    settings = Settings.model_validate({"PINQL_SECRET": "s" * 32})
    longest = settings.db_acquire_timeout_seconds + settings.request_timeout_seconds

    assert longest < TIMEOUT_SECONDS
    command = wrk_command("wrk", Path("x.lua"), "http://127.0.0.1:1", 3, 32, 1)
    assert command[command.index("--timeout") + 1] == f"{TIMEOUT_SECONDS}s"


def test_each_row_runs_once_in_every_place_over_as_many_rounds_as_rows() -> None:
    rows = ["text", "hash", "baseline text", "baseline hash", "floor"]
    orders = [in_turn(rows, r) for r in range(len(rows))]
    assert orders[0] == rows
    assert all(sorted(order) == sorted(rows) for order in orders)
    for place in range(len(rows)):
        assert sorted(order[place] for order in orders) == sorted(rows)
    assert in_turn(rows, len(rows)) == rows
