"""An operation's rows (bench/harness.py `Harness.rows`) and how the report shows them
(bench/report.py): full text, hash only, the same two to the baseline when one is served,
then the floor; each row's ratio to the floor, and this commit's to the baseline's."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from bench.__main__ import parse_args
from bench.baseline import Checkout
from bench.counters import Counts
from bench.dataset import Subjects
from bench.harness import Baseline, Harness
from bench.machine import Machine
from bench.meters import Meter, Usage
from bench.operations import ROWS, operations, row_keys
from bench.processes import Server
from bench.report import Measured, Report, across_scales, markdown
from bench.wrk import WrkResult

SUBJECTS = Subjects(
    viewer=7,
    followees=3,
    board=11,
    username="olive",
    repin=13,
    nodes=(("User", 2), ("Board", 11), ("Pin", 13), ("Comment", 5)),
)


NO_PROCESS = cast(subprocess.Popen[bytes], None)  # never signalled: these tests run no server


def _meter(directory: Path) -> Meter:  # never asked: these tests run no server
    return Meter(directory, "db", asyncio.Runner(), cast(asyncpg.Connection, None))


def _harness(tmp_path: Path, keys: list[str], *, baseline: bool) -> Harness:
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


def _report(tmp_path: Path, results: list[Measured], *, baseline: bool) -> Report:
    args: argparse.Namespace = parse_args(["--baseline", "main"] if baseline else [])
    return Report(
        command="python -m bench",
        date=datetime(2026, 1, 1, tzinfo=UTC),
        args=args,
        scale=10,
        machine=Machine("cpu", 2, 4.0, "3.11", "15", {}),
        harness=_harness(tmp_path, ["nodes", "latest"], baseline=baseline),
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
