"""The benchmark run: check that each operation answers the same data three ways (full text,
hash only, floor), then drive each way with wrk at fixed concurrency for a fixed time and
meter what every request cost."""

from __future__ import annotations

import argparse
import functools
import operator
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from bench.counters import read_counters, total
from bench.harness import Harness, harness
from bench.machine import Machine
from bench.meters import Usage, busy_cores
from bench.operations import ROOT_FIELDS, VARIANTS, Operation
from bench.report import Measured, Report, write_report
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
    }
    return None if lists[operation.key]() else "its lists are empty (or hold nulls)"


def check(h: Harness) -> dict[str, dict[str, int]]:
    """Each operation answers 200 with data and no errors each way, the floor's data equals
    pinql's, and the page is not empty; the SQL statements of one request each way (counted
    on its second run: a new connection's first statements are set-up)."""
    statements: dict[str, dict[str, int]] = {}
    with httpx.Client(timeout=CHECK_TIMEOUT_SECONDS) as client:
        for key, operation in h.operations.items():
            requests = operation.requests(h.token)
            answers = {}
            statements[key] = {}
            for variant, request in requests.items():
                _data(_send(client, h.server.base, request), request.name)
                before = total(read_counters(h.meter.counters_dir))
                answers[variant] = _data(_send(client, h.server.base, request), request.name)
                after = total(read_counters(h.meter.counters_dir))
                statements[key][variant] = (after - before).statements
            problem = _empty(operation, answers["text"])
            if problem:
                raise SystemExit(f"{operation.name} {operation.variables}: {problem}")
            for variant in ("hash", "floor"):
                if answers[variant] != answers["text"]:
                    raise SystemExit(
                        f"{operation.name}: the {VARIANTS[variant]} answer differs from the "
                        f"full text's:\n{answers[variant]}\n!=\n{answers['text']}"
                    )
            print(f"checked {operation.name}: same data three ways; statements {statements[key]}")
            if statements[key]["floor"] != statements[key]["hash"]:
                print(
                    f"WARNING: the floor of {operation.name} runs {statements[key]['floor']} "
                    f"statements, pinql {statements[key]['hash']}: bench/floor/ no longer "
                    "runs what pinql runs (tests/bench/test_floor.py says where)"
                )
    return statements


def measure(h: Harness, args: argparse.Namespace) -> list[Measured]:
    """wrk drives each operation each way (after a warm-up); the meters say what it cost.

    An operation's ways are measured in `args.rounds` interleaved rounds (text, hash, floor,
    text, hash, floor...) of `duration / rounds` seconds each, so that a drift of the
    machine's speed during the operation's rows weighs on every way alike. Each run ends
    once the server has answered what wrk left in flight (`Meter.settle`): no run loads the
    next one's."""
    wrk = find_wrk()
    statements = check(h)
    results = []
    seconds = max(1, round(args.duration / args.rounds))  # wrk takes whole seconds
    for key, operation in h.operations.items():
        scripts = {
            variant: write_script(h.directory / f"{key}-{variant}.lua", request)
            for variant, request in operation.requests(h.token).items()
        }
        if args.warmup > 0:
            for script in scripts.values():
                run_wrk(wrk, script, h.server.base, args.warmup, args.connections, args.threads)
                h.meter.settle()
        runs: dict[str, list[tuple[WrkResult, Usage]]] = {variant: [] for variant in scripts}
        settling = dict.fromkeys(scripts, 0.0)
        for _ in range(args.rounds):
            for variant, script in scripts.items():
                before = h.meter.snapshot()
                run = run_wrk(wrk, script, h.server.base, seconds, args.connections, args.threads)
                settling[variant] += h.meter.settle()
                runs[variant].append((run, h.meter.usage(before, h.meter.snapshot())))
        for variant, measured in runs.items():
            request = operation.requests(h.token)[variant]
            result = combined([run for run, _ in measured])
            usage = functools.reduce(operator.add, [used for _, used in measured])
            results.append(Measured(key, variant, result, usage, statements[key][variant]))
            marked = f" FAILED: {'; '.join(result.failures)}" if result.failures else ""
            late = settling[variant]
            print(
                f"{request.name}: {result.requests_per_second:.1f} req/s, "
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                f"{usage.statements_per_request:.2f} statements/request, "
                f"load {usage.load:.2f}"
                + (f", {late:.1f} s answering what wrk left in flight" if late >= 1 else "")
                + marked,
                flush=True,
            )
    return results


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
    with harness(args.workers, args.operations, dict(args.server_env)) as h:
        results = measure(h, args)
        log = h.server_log.read_text(errors="replace").strip()
        report = Report(
            command=shlex.join([".venv/bin/python", "-m", "bench", *sys.argv[1:]]),
            date=date,
            args=args,
            machine=Machine.describe(h.postgres_version),
            harness=h,
            results=results,
            load_before=load_before,
            busy_before=idle,
            load_after=os.getloadavg(),
        )
    print()
    print(report.markdown())
    if args.write:
        write_report(args.write, report)
        print(f"\nwrote {args.write}")
    if log:
        print(f"\nserver log (warnings and errors):\n{log[-4000:]}")
    failures = [f"{m.operation} {m.variant}: {p}" for m in results for p in m.wrk.failures]
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"\ntotal runtime: {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


def _loads(loads: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in loads)
