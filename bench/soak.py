"""The soak: drive the feed (hash only, as the web client sends it) for a long time and
sample every worker's RSS every few seconds; a worker whose memory keeps growing leaks."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import UTC, datetime

from bench.harness import harness
from bench.report import write_soak
from bench.run import check
from bench.wrk import WrkResult, find_wrk, parse_output, run_wrk, start_wrk, write_script

MIB = 2**20
FLAT_MIB_PER_MINUTE = 0.5
"""A worker is flat when its RSS grows slower than this over the soak's second half."""

Sample = tuple[float, dict[int, int]]
"""Seconds since the load started, and RSS in bytes per worker pid."""


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of (x, y) points (0 for fewer than two x values)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n if n else 0.0
    mean_y = sum(y for _, y in points) / n if n else 0.0
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def _mib_per_minute(samples: list[Sample], pid: int, since: float) -> float:
    points = [(t / 60, rss[pid] / MIB) for t, rss in samples if t >= since and pid in rss]
    return slope(points)


def soak_section(
    command: str, args: argparse.Namespace, samples: list[Sample], result: WrkResult
) -> str:
    """The soak's markdown section: the samples, each worker's slope and verdict."""
    pids = sorted({pid for _, rss in samples for pid in rss})
    half = args.soak / 2
    lines = [
        "## Soak",
        "",
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: HomeFeed (30 pins) sent hash "
        f"only by {args.connections} connections for {args.soak} s to {args.workers} worker(s); "
        f"RSS sampled every {args.soak_interval} s after {args.warmup} s of warm-up (the target: "
        "flat over a 600 s soak).",
        "",
        f"- wrk: {result.requests_per_second:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.requests:,} requests, {result.errors} errors",
    ]
    for pid in pids:
        first = next(rss[pid] for _, rss in samples if pid in rss)
        last = next(rss[pid] for _, rss in reversed(samples) if pid in rss)
        late = _mib_per_minute(samples, pid, half)
        verdict = "flat" if late < FLAT_MIB_PER_MINUTE else "**growing**"
        lines.append(
            f"- worker {pid}: {first / MIB:.1f} → {last / MIB:.1f} MiB; slope "
            f"{_mib_per_minute(samples, pid, 0):+.2f} MiB/min over the whole soak, "
            f"{late:+.2f} MiB/min over its second half: {verdict} "
            f"(flat: under {FLAT_MIB_PER_MINUTE} MiB/min)"
        )
    lines += [
        "",
        "| t (s) | " + " | ".join(f"worker {pid} RSS MiB" for pid in pids) + " |",
        "|---:|" + "---:|" * len(pids),
    ]
    for t, rss in samples:
        cells = [f"{rss[pid] / MIB:.1f}" if pid in rss else "" for pid in pids]
        lines.append(f"| {t:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    """Runs the soak; 1 when any response was not a good 200."""
    wrk = find_wrk()
    command = shlex.join([".venv/bin/python", "-m", "bench", *sys.argv[1:]])
    with harness(args.workers, ["feed"], dict(args.server_env)) as h:
        check(h)
        request = h.operations["feed"].requests(h.token, h.key)["hash"]
        script = write_script(h.directory / "soak.lua", request)
        if args.warmup > 0:  # so the first sample is a warm worker's
            run_wrk(wrk, script, h.server.base, args.warmup, args.connections, args.threads)
        process, wrk_command = start_wrk(
            wrk, script, h.server.base, args.soak, args.connections, args.threads
        )
        started = time.monotonic()
        samples: list[Sample] = [(0.0, h.meter.rss())]
        next_at = float(args.soak_interval)
        while process.poll() is None:
            time.sleep(0.2)
            elapsed = time.monotonic() - started
            if elapsed >= next_at and process.poll() is None:
                samples.append((elapsed, h.meter.rss()))
                sizes = ", ".join(f"{pid}: {n / MIB:.1f}" for pid, n in samples[-1][1].items())
                print(f"{elapsed:5.0f} s  RSS MiB {sizes}", flush=True)
                next_at += args.soak_interval
        output, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{wrk_command} failed ({process.returncode}):\n{output}")
        result = parse_output(output, wrk_command)
    section = soak_section(command, args, samples, result)
    print()
    print(section)
    if args.write:
        write_soak(args.write, section)
        print(f"wrote the soak section of {args.write}")
    for failure in result.failures:
        print(f"FAILED: {failure}")
    return 1 if result.failures else 0
