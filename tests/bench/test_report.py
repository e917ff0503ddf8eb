"""An operation's rows (bench/harness.py `Harness.rows`) and how the report shows them
(bench/report.py): full text, hash only, the same two to the baseline when one is served,
PostGraphile's when the peer is served, then the floor; each row's ratio to the floor, this
commit's to the baseline's, and pinql's beside PostGraphile's with the issue's targets."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import asyncpg
import orjson
import pytest

from bench.__main__ import parse_args
from bench.baseline import Checkout
from bench.counters import Counts
from bench.dataset import Subjects
from bench.harness import Baseline, Harness
from bench.machine import Machine
from bench.meters import Meter, Usage
from bench.operations import ROWS, operations, row_keys
from bench.postgraphile.peer import Peer
from bench.postgraphile.requests import peer_request
from bench.processes import Server
from bench.report import Report, across_scales, markdown
from bench.report_table import Measured
from bench.wrk import WrkResult

SUBJECTS = Subjects(
    viewer=7,
    followees=3,
    board=11,
    username="olive",
    repin=13,
    nodes=tuple(
        (t, n + i)
        for i in range(3)
        for t, n in (("User", 2), ("Board", 11), ("Pin", 13), ("Comment", 5))
    ),
)


NO_PROCESS = cast(subprocess.Popen[bytes], None)  # never signalled: these tests run no server


def _meter(directory: Path) -> Meter:  # never asked: these tests run no server
    return Meter(directory, "db", asyncio.Runner(), cast(asyncpg.Connection, None))


def _peer(tmp_path: Path, keys: list[str]) -> Peer:
    every = operations(SUBJECTS)
    return Peer(
        server=Server("http://127.0.0.1:2003", 3, "node cli.js --cluster-workers 2", NO_PROCESS),
        meter=_meter(tmp_path / "p"),
        log=tmp_path / "p.log",
        versions={"postgraphile": "4.14.1", "postgraphile-plugin-connection-filter": "2.3.0"},
        pool_size=10,
        requests={k: peer_request(every[k], SUBJECTS.viewer, "viewer7") for k in keys},
        started_log=0,
    )


def _harness(tmp_path: Path, keys: list[str], *, baseline: bool, peer: bool = False) -> Harness:
    every = operations(SUBJECTS)
    served = None
    if baseline:
        tree = Checkout("main", "4ee972f" + "0" * 33, "A change", tmp_path / "tree")
        server = Server("http://127.0.0.1:2002", 2, "uvicorn bench.app:create", NO_PROCESS)
        served = Baseline(tree, server, _meter(tmp_path / "b"), tmp_path / "b.log", {})
    return Harness(
        server=Server("http://127.0.0.1:2001", 1, "uvicorn bench.app:create", NO_PROCESS),
        meter=_meter(tmp_path / "a"),
        operations={k: every[k] for k in keys},
        subjects=SUBJECTS,
        token="t0ken",
        key="k3y",
        table_counts={"users": 20},
        database="pinql_bench",
        postgres_version="15",
        workers=1,
        directory=tmp_path,
        environment={"REDIS_URL": "redis://127.0.0.1:6379/14"},
        baseline=served,
        peer=_peer(tmp_path, keys) if peer else None,
    )


def test_the_rows_take_turns_text_hash_baseline_floor(tmp_path: Path) -> None:
    assert row_keys(False) == ["text", "hash", "floor"]
    assert row_keys(True) == ["text", "hash", "baseline-text", "baseline-hash", "floor"]

    h = _harness(tmp_path, ["nodes"], baseline=True)
    rows = h.rows(h.operations["nodes"])

    assert [r.key for r in rows] == row_keys(True)
    assert [r.request.name for r in rows] == [
        "nodes full text",
        "nodes hash only",
        "nodes baseline full text",
        "nodes baseline hash only",
        "nodes floor",
    ]
    assert h.baseline is not None
    assert [r.base for r in rows] == [h.server.base] * 2 + [h.baseline.server.base] * 2 + [
        h.server.base
    ]
    assert [r.meter for r in rows] == [h.meter] * 2 + [h.baseline.meter] * 2 + [h.meter]
    # the baseline is sent exactly what this commit is
    for ours, theirs in ((rows[0], rows[2]), (rows[1], rows[3])):
        assert (ours.request.path, ours.request.body, ours.request.headers) == (
            theirs.request.path,
            theirs.request.body,
            theirs.request.headers,
        )


def test_without_a_baseline_there_are_three_rows(tmp_path: Path) -> None:
    h = _harness(tmp_path, ["latest"], baseline=False)

    assert [r.key for r in h.rows(h.operations["latest"])] == ["text", "hash", "floor"]


def _measured(operation: str, row: str, rate: float, seconds: float = 10.0) -> Measured:
    requests = round(rate * seconds)
    wrk = WrkResult(rate, 5.0, 8.0, 9.0, requests, seconds, 0, 0, requests, 0, "wrk ...")
    usage = Usage(seconds, Counts(requests, 2 * requests), 1.0, 1.0, 0.1, 0.1, {1: 2**26}, 1.0)
    return Measured(operation, row, wrk, usage, 2)


def _report(
    tmp_path: Path, results: list[Measured], *, baseline: bool, peer: bool = False
) -> Report:
    args: argparse.Namespace = parse_args(["--baseline", "main"] if baseline else [])
    return Report(
        command="python -m bench",
        date=datetime(2026, 1, 1, tzinfo=UTC),
        args=args,
        scale=10,
        machine=Machine("cpu", 2, 4.0, "3.11", "15", {}),
        harness=_harness(tmp_path, ["nodes", "latest"], baseline=baseline, peer=peer),
        results=results,
        load_before=(0.1, 0.1, 0.1),
        busy_before=0.1,
        load_after=(1.0, 1.0, 1.0),
    )


def test_the_report_has_a_row_per_variant_and_each_ratio_to_the_floor(tmp_path: Path) -> None:
    rates = {"text": 900, "hash": 1000, "baseline-text": 600, "baseline-hash": 800, "floor": 1000}
    results = [_measured("nodes", row, rates[row]) for row in row_keys(True)]
    results += [_measured("latest", row, 4.0) for row in row_keys(True)]
    report = _report(tmp_path, results, baseline=True)

    table = report.table().splitlines()[2:]
    assert [line.split(" | ")[1] for line in table] == [ROWS[k] for k in row_keys(True)] * 2
    assert table[0].startswith("| nodes (NodeLookup) | full text | 900 |")
    assert table[5].startswith("| latest (LatestPins) | full text | 4.0 (n=40) |")
    assert report.ratios() == [
        "- NodeLookup: full text 0.90x, hash only 1.00x, baseline full text 0.60x, "
        "baseline hash only 0.80x (floor 1000 req/s); this commit to the baseline: "
        "full text 1.50x, hash only 1.25x",
        "- LatestPins: full text 1.00x, hash only 1.00x, baseline full text 1.00x, "
        "baseline hash only 1.00x (floor 4 req/s); this commit to the baseline: "
        "full text 1.00x, hash only 1.00x",
    ]
    markdown = report.markdown()
    assert "- baseline (`--baseline main`): commit `4ee972f00000` (A change)" in markdown
    assert "(full text, hash only, baseline full text, baseline hash only, floor; each" in (
        markdown
    )
    assert "the mutations are not benchmarked" in markdown


def test_without_a_baseline_the_report_says_nothing_of_one(tmp_path: Path) -> None:
    results = [_measured("nodes", row, 100.0) for row in row_keys(False)]
    report = _report(tmp_path, results, baseline=False)

    assert report.ratios() == ["- NodeLookup: full text 1.00x, hash only 1.00x (floor 100 req/s)"]
    assert "- baseline (" not in report.markdown()
    assert "## Warnings" not in report.markdown()


def test_the_checks_warnings_reach_the_report(tmp_path: Path) -> None:
    results = [_measured("nodes", row, 100.0) for row in row_keys(True)]
    warning = "NodeLookup: the baseline answers other data than this commit"
    report = replace(_report(tmp_path, results, baseline=True), warnings=[warning])

    assert f"## Warnings\n\n- {warning}\n" in report.markdown()


def test_several_scales_compare_each_operations_cost(tmp_path: Path) -> None:
    def at(scale: float, pg_cpu: float) -> Report:
        results = []
        for row in row_keys(False):
            measured = _measured("nodes", row, 100.0)
            requests = measured.usage.counts.requests
            usage = replace(measured.usage, postgres_cpu=pg_cpu * requests / 1000)
            results.append(replace(measured, usage=usage))
        return replace(_report(tmp_path, results, baseline=False), scale=scale)

    large, small = at(10, 2.6), at(1, 2.0)
    assert large.results[0].postgres_ms == pytest.approx(2.6)
    lines = across_scales([large, small])
    assert lines[2] == (
        "| operation | sent as | req/s scale 1 | req/s scale 10 | PG CPU ms/req scale 1 "
        "| PG CPU ms/req scale 10 | PG CPU 10 ÷ 1 | ≤ 1.3x |"
    )
    assert lines[4] == "| NodeLookup | full text | 100 | 100 | 2.00 | 2.60 | 1.30x | pass |"
    growing = across_scales([at(10, 2.7), small])
    assert growing[4].endswith("| 1.35x | **FAIL** |")
    text = markdown([large, small])
    assert text.index("### Scale 10") < text.index("### Scale 1\n") < text.index("## Across")
    assert "At scale 1:" in text


def test_the_peer_takes_its_turn_before_the_floor(tmp_path: Path) -> None:
    assert row_keys(False, peer=True) == ["text", "hash", "peer", "floor"]
    assert row_keys(True, peer=True)[-2:] == ["peer", "floor"]

    h = _harness(tmp_path, ["board"], baseline=False, peer=True)
    rows = h.rows(h.operations["board"])

    assert h.peer is not None
    assert [r.key for r in rows] == ["text", "hash", "peer", "floor"]
    peer = rows[2]
    assert (peer.base, peer.meter) == (h.peer.server.base, h.peer.meter)
    assert (peer.request.name, peer.request.path) == ("board PostGraphile", "/graphql")
    assert peer.request.body is not None
    body = orjson.loads(peer.request.body)
    assert body["query"].startswith("# operations/BoardPage.graphql on PostGraphile")
    assert "fragment PinCard on Pin" in body["query"]
    assert body["variables"] == {"viewerId": "7", "boardId": "11", "first": 30}
    assert "Authorization" not in peer.request.headers  # no sign-in: the viewer is a variable


def _peer_report(tmp_path: Path, rates: dict[str, float], pg_ms: dict[str, float]) -> Report:
    results = []
    for key in ("nodes", "latest"):
        for row in row_keys(False, peer=True):
            measured = _measured(key, row, rates[row])
            requests = measured.usage.counts.requests
            usage = replace(measured.usage, postgres_cpu=pg_ms[row] * requests / 1000)
            results.append(replace(measured, usage=usage))
    return _report(tmp_path, results, baseline=False, peer=True)


def test_pinql_beside_the_peer_passes_faster_and_lighter(tmp_path: Path) -> None:
    rates = {"text": 900.0, "hash": 1000.0, "peer": 600.0, "floor": 1000.0}
    pg_ms = {"text": 1.0, "hash": 1.3, "peer": 1.2, "floor": 1.0}
    report = _peer_report(tmp_path, rates, pg_ms)

    table = report.table().splitlines()
    assert table[4] == (
        "|  | PostGraphile | 600 | 5.0 | 8.0 | 9.0 | 0 | 2.00 | 0.17 | 1.20 | 64 | 0.01 "
        "| 0.60x | — | — | — | — |"
    )
    beside = report.beside_peer()
    assert beside[0].startswith("Beside PostGraphile (the peer; it enforces no privacy rules)")
    assert beside[2].startswith("| operation | sent as | req/s | PostGraphile req/s |")
    assert beside[4:8] == [
        "| NodeLookup | full text | 900 | 600 | 1.50x | pass | 1.00 | 1.20 | pass |",
        "|  | hash only | 1000 | 600 | 1.67x | pass | 1.30 | 1.20 | **FAIL** |",
        "| LatestPins | full text | 900 | 600 | 1.50x | pass | 1.00 | 1.20 | pass |",
        "|  | hash only | 1000 | 600 | 1.67x | pass | 1.30 | 1.20 | **FAIL** |",
    ]
    assert report.ratios()[0] == (
        "- NodeLookup: full text 0.90x, hash only 1.00x, PostGraphile 0.60x (floor 1000 req/s)"
    )


def test_pinql_under_1_2x_the_peer_fails(tmp_path: Path) -> None:
    rates = {"text": 700.0, "hash": 726.0, "peer": 600.0, "floor": 1000.0}
    pg_ms = {"text": 1.0, "hash": 1.0, "peer": 1.0, "floor": 1.0}
    beside = _peer_report(tmp_path, rates, pg_ms).beside_peer()

    assert (
        beside[4]
        == "| NodeLookup | full text | 700 | 600 | 1.17x | **FAIL** | 1.00 | 1.00 | pass |"
    )
    assert beside[5] == "|  | hash only | 726 | 600 | 1.21x | pass | 1.00 | 1.00 | pass |"


def test_a_peer_row_with_errors_decides_nothing(tmp_path: Path) -> None:
    rates = {"text": 900.0, "hash": 900.0, "peer": 600.0, "floor": 1000.0}
    report = _peer_report(tmp_path, rates, dict.fromkeys(rates, 1.0))
    broken = [
        replace(m, wrk=replace(m.wrk, bad_bodies=3)) if m.variant == "peer" else m
        for m in report.results
    ]
    beside = replace(report, results=broken).beside_peer()

    assert beside[4].endswith("| 1.50x | ⚠ errors | 1.00 | 1.00 | ⚠ errors |")


def test_the_report_says_what_the_peer_is_and_what_it_was_sent(tmp_path: Path) -> None:
    rates = {"text": 900.0, "hash": 1000.0, "peer": 600.0, "floor": 1000.0}
    text = _peer_report(tmp_path, rates, dict.fromkeys(rates, 1.0)).markdown()

    assert "- PostGraphile (the peer: enforces no privacy rules; postgraphile 4.14.1, " in text
    assert "`node cli.js --cluster-workers 2` run in bench/postgraphile/" in text
    assert "(full text, hash only, PostGraphile, floor; each round" in text
    assert 'PostGraphile\'s `{"viewerId": "7", "first": 30}`' in text
    assert "SQL statements of one request: full text 2, hash only 2, PostGraphile 2, floor 2" in (
        text
    )
    assert "- PostGraphile rows (the peer): PostGraphile 4.14.1" in text
    assert "**It enforces no privacy rules**" in text
    assert "with a pool of 10 connections" in text
    assert "pinql's req/s at least 1.2x PostGraphile's" in text


def test_without_the_peer_the_report_says_it_was_left_out(tmp_path: Path) -> None:
    results = [_measured("nodes", row, 100.0) for row in row_keys(False)]
    report = _report(tmp_path, results, baseline=False)

    assert report.beside_peer() == []
    assert "- No PostGraphile rows: the run left the peer out (`--no-peer`)." in report.markdown()


def test_the_peer_has_its_row_across_scales(tmp_path: Path) -> None:
    rates = {"text": 900.0, "hash": 1000.0, "peer": 600.0, "floor": 1000.0}
    large = replace(_peer_report(tmp_path, rates, dict.fromkeys(rates, 2.0)), scale=10)
    small = replace(_peer_report(tmp_path, rates, dict.fromkeys(rates, 1.0)), scale=1)

    lines = across_scales([large, small])

    assert "|  | PostGraphile | 600 | 600 | 1.00 | 2.00 | 2.00x | **FAIL** |" in lines
