"""The benchmark run: check that each operation answers the same data in each row (full
text, hash only, each also to the baseline's server if one is served, the floor, and the same
objects from the peer, PostGraphile, if served), then drive each row with wrk at fixed
concurrency for a fixed time and meter what every request cost."""

from __future__ import annotations

import argparse
import functools
import operator
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import orjson

from bench.counters import read_counters, total
from bench.harness import Harness, harness
from bench.machine import Machine
from bench.meters import Usage, busy_cores
from bench.operations import BASELINE, PEER, ROOT_FIELDS, ROWS, Operation
from bench.postgraphile.answers import difference
from bench.postgraphile.requests import QUERIES_DIR
from bench.processes import ROOT
from bench.report import Report, markdown, write_report
from bench.report_table import Measured
from bench.wrk import WrkRequest, WrkResult, combined, find_wrk, run_wrk, write_script

CHECK_TIMEOUT_SECONDS = 60.0
"""One request of the checks, sent alone (LatestPins takes about 0.3 s at scale 10)."""
IDLE_CHECK_SECONDS = 5.0
BUSY_CORES = 0.3
"""More cores than this busy before the run: someone else is using the machine."""


def _send(client: httpx.Client, base: str, request: WrkRequest) -> httpx.Response:
    return client.request(
        request.method, base + request.path, content=request.body, headers=dict(request.headers)
    )


def _data(response: httpx.Response, what: str) -> dict[str, Any]:
    body = orjson.loads(response.content) if response.content else None
    if response.status_code != 200 or not isinstance(body, dict) or "errors" in body:
        raise SystemExit(f"{what}: HTTP {response.status_code}: {response.text[:2000]}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise SystemExit(f"{what}: no data: {response.text[:2000]}")
    return data


def _empty(operation: Operation, data: dict[str, Any]) -> str | None:
    """Why the answer would measure too little (None: it holds what the bench wants)."""
    root = data.get(ROOT_FIELDS[operation.key])
    if root is None:
        return "the root field is null"
    lists: dict[str, Callable[[], object]] = {
        "feed": lambda: root["edges"],
        "board": lambda: root["pins"]["edges"],
        "profile": lambda: root["boards"]["nodes"] and root["pins"]["nodes"],
        "pin": lambda: root["comments"]["edges"] and root["savedFrom"],
        "latest": lambda: any(e["node"]["comments"]["nodes"] for e in root["edges"]),
        "nodes": lambda: root and None not in root,
        "search": lambda: root["edges"],
        "related": lambda: root["related"]["edges"],
    }
    return None if lists[operation.key]() else "its lists are empty (or hold nulls)"


@dataclass(frozen=True, slots=True)
class Checked:
    """What the checks before the load found."""

    statements: dict[str, dict[str, int]]
    """Per operation and row: the SQL statements of one request, counted alone."""
    warnings: list[str]
    """What a reader of the report must know: a floor that no longer runs pinql's
    statements, a baseline that answers other data."""


def check(h: Harness) -> Checked:
    """Each operation answers 200 with data and no errors in each row, the floor's data
    equals pinql's, the peer's holds the same objects (bench/postgraphile/answers.py), and
    the page is not empty; the SQL statements of one request in each row (counted on its
    second run: a new connection's first statements are set-up). A baseline answering other
    data is a warning, not an error: the commits may differ."""
    statements: dict[str, dict[str, int]] = {}
    warnings = []
    with httpx.Client(timeout=CHECK_TIMEOUT_SECONDS) as client:
        for key, operation in h.operations.items():
            answers = {}
            statements[key] = {}
            for row in h.rows(operation):
                _data(_send(client, row.base, row.request), row.request.name)
                before = total(read_counters(row.meter.counters_dir))
                answers[row.key] = _data(_send(client, row.base, row.request), row.request.name)
                after = total(read_counters(row.meter.counters_dir))
                statements[key][row.key] = (after - before).statements
            problem = _empty(operation, answers["text"])
            if problem:
                raise SystemExit(f"{operation.name} {operation.variables}: {problem}")
            for row_key, answer in answers.items():
                if row_key == PEER:
                    _same_objects(operation, answers["text"], answer)
                    continue
                if answer == answers["text"]:
                    continue
                differs = (
                    f"{operation.name}: the {ROWS[row_key]} answer differs from the full "
                    f"text's:\n{answer}\n!=\n{answers['text']}"
                )
                if not row_key.startswith(BASELINE):
                    raise SystemExit(differs)
                print(f"WARNING: {differs}")
                warning = (
                    f"{operation.name}: the baseline answers other data than this commit "
                    "(its rows measure a different answer)"
                )
                if warning not in warnings:
                    warnings.append(warning)
            print(f"checked {operation.name}: {len(answers)} ways; statements {statements[key]}")
            if statements[key]["floor"] != statements[key]["hash"]:
                warnings.append(
                    f"the floor of {operation.name} runs {statements[key]['floor']} "
                    f"statements, pinql {statements[key]['hash']}: bench/floor/ no longer "
                    "runs what pinql runs (tests/bench/test_floor.py says where)"
                )
                print(f"WARNING: {warnings[-1]}")
    return Checked(statements, warnings)


def _same_objects(operation: Operation, pinql: dict[str, Any], peer: dict[str, Any]) -> None:
    """SystemExit unless the peer's answer holds the objects pinql's does."""
    differs = difference(pinql, peer)
    if differs:
        query = QUERIES_DIR / operation.document
        raise SystemExit(
            f"{operation.name}: PostGraphile answers other objects than pinql ({differs}): "
            f"{query.relative_to(ROOT)} no longer fetches what "
            f"{operation.document} does"
        )


T = TypeVar("T")


def in_turn(rows: list[T], round_: int) -> list[T]:
    """The rows in the order of round `round_` (from 0): each round starts one row later, so
    over as many rounds as rows, every row runs once in every place."""
    shift = round_ % len(rows)
    return rows[shift:] + rows[:shift]


def measure(h: Harness, args: argparse.Namespace) -> tuple[list[Measured], list[str]]:
    """wrk drives each operation in each row (after a warm-up); the meters say what it cost;
    and the checks' warnings.

    An operation's rows are measured in `args.rounds` interleaved rounds (text, hash,
    [baseline text, baseline hash,] floor; then hash, ..., floor, text...) of
    `duration / rounds` seconds each, each round starting one row later, so that a drift of
    the machine's speed during the operation's rows, or a penalty of a round's first row,
    weighs on every row alike. One row runs at a time, and each run ends once its server has
    answered what wrk left in flight (`Meter.settle`): no run loads the next one's server."""
    wrk = find_wrk()
    checked = check(h)
    results = []
    seconds = max(1, round(args.duration / args.rounds))  # wrk takes whole seconds
    for key, operation in h.operations.items():
        rows = h.rows(operation)
        scripts = {
            row.key: write_script(h.directory / f"{key}-{row.key}.lua", row.request) for row in rows
        }
        if args.warmup > 0:
            for row in rows:
                run_wrk(
                    wrk, scripts[row.key], row.base, args.warmup, args.connections, args.threads
                )
                row.meter.settle()
        runs: dict[str, list[tuple[WrkResult, Usage]]] = {row.key: [] for row in rows}
        settling = dict.fromkeys(runs, 0.0)
        for round_ in range(args.rounds):
            for row in in_turn(rows, round_):
                before = row.meter.snapshot()
                run = run_wrk(
                    wrk, scripts[row.key], row.base, seconds, args.connections, args.threads
                )
                settling[row.key] += row.meter.settle()
                runs[row.key].append((run, row.meter.usage(before, row.meter.snapshot())))
        for row in rows:
            measured = runs[row.key]
            result = combined([run for run, _ in measured])
            usage = functools.reduce(operator.add, [used for _, used in measured])
            results.append(Measured(key, row.key, result, usage, checked.statements[key][row.key]))
            marked = f" FAILED: {'; '.join(result.failures)}" if result.failures else ""
            late = settling[row.key]
            print(
                f"{row.request.name}: {result.requests_per_second:.1f} req/s, "
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                f"{usage.statements_per_request:.2f} statements/request, "
                f"load {usage.load:.2f}"
                + (f", {late:.1f} s answering what wrk left in flight" if late >= 1 else "")
                + marked,
                flush=True,
            )
    return results, checked.warnings


def main(args: argparse.Namespace) -> int:
    """The whole benchmark; 1 when any measured response was not a good 200."""
    started = time.monotonic()
    load_before = os.getloadavg()
    idle = busy_cores(IDLE_CHECK_SECONDS)
    print(
        f"load average before the run: {_loads(load_before)}; the machine kept "
        f"{idle:.2f} cores busy over {IDLE_CHECK_SECONDS:g} s"
    )
    if idle > BUSY_CORES:
        print(f"WARNING: the machine is busy before the run ({idle:.2f} cores): expect noise")
    date = datetime.now(UTC)
    reports: list[Report] = []
    logs: list[str] = []
    for scale in args.scales:
        loads = os.getloadavg() if reports else load_before
        report, log = _run_at(args, scale, date, loads, idle)
        reports.append(report)
        if log:
            logs.append(f"at scale {scale:g}:\n{log}")
    print()
    print(markdown(reports))
    if args.write:
        write_report(args.write, reports)
        print(f"\nwrote {args.write}")
    if logs:
        print("\nwarnings and errors the servers logged:\n" + "\n".join(logs))
    results = [m for report in reports for m in report.results]
    failures = [f"{m.operation} {m.variant}: {p}" for m in results for p in m.wrk.failures]
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"\ntotal runtime: {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


def _run_at(
    args: argparse.Namespace,
    scale: float,
    date: datetime,
    load_before: tuple[float, float, float],
    idle: float,
) -> tuple[Report, str]:
    """Every operation measured on the data set of `scale`; its report and what its servers
    logged."""
    print(f"scale {scale:g}:", flush=True)
    with harness(
        args.workers,
        args.operations,
        dict(args.server_env),
        args.baseline,
        scale=scale,
        peer=args.peer,
    ) as h:
        results, warnings = measure(h, args)
        log = _logged(h)
        report = Report(
            command=shlex.join([".venv/bin/python", "-m", "bench", *sys.argv[1:]]),
            date=date,
            args=args,
            scale=scale,
            machine=Machine.describe(h.postgres_version),
            harness=h,
            results=results,
            load_before=load_before,
            busy_before=idle,
            load_after=os.getloadavg(),
            warnings=warnings,
        )
    return report, log


def _logged(h: Harness) -> str:
    """What the servers logged: pinql's, the baseline's, and PostGraphile's once it was up
    (the last 4000 characters of each)."""
    logs = [(f"server log ({h.server.command})", h.server_log.read_text(errors="replace"))]
    if h.baseline is not None:
        where = h.baseline.checkout.path
        logs.append((f"baseline server log ({where})", h.baseline.log.read_text(errors="replace")))
    if h.peer is not None:
        what = f"PostGraphile's log once it was up ({h.peer.server.command})"
        logs.append((what, h.peer.logged()))
    return "\n".join(f"{what}:\n{text.strip()[-4000:]}" for what, text in logs if text.strip())


def _loads(loads: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in loads)
