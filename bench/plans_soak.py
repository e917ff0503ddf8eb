"""The plans soak: thousands of distinct documents sent to one worker for a bounded time, to
see what per-document state (prepared documents, plans) costs it in memory, event-loop
stalls and shutdown time.

    .venv/bin/python -m bench.plans_soak [--documents 2000] [--duration 120]
        [--fast-path | --no-fast-path] [--seed 0] [--connections 4] [--repeats 3]
        [--rss-ceiling 3072] [--graceful-timeout 30] [--database-url URL]
        [--pad BYTES] [--apq]

Generates the documents first (bench/plan_documents.py: hypothesis-graphql with the seed,
rewritten with aliases, fragments and conditions; each text distinct, each accepted by the
default limits). Serves the benchmark's app with uvicorn `--workers 1` and an explicit
`--timeout-graceful-shutdown` (bench/harness.py; rate limits off), with PINQL_FAST_PATH as
asked, on the demo data set at scale 0.1 (10,000 pins) in `pinql_plans_soak`, seeded once
if absent by `pinql seed` (deterministic), or on the migrated database of --database-url.
A small data set keeps each request's SQL cheap, so the load is about documents (on the
scale-10 `pinql_bench`, the connections mostly wait for PostgreSQL).

Sends each document --repeats times in a row from --connections connections (its condition
variables drawn per request), then the next, starting over once all were sent, until
--duration seconds pass or the worker's RSS passes --rss-ceiling MiB (then the load stops).
Meanwhile it samples the worker's RSS every second and probes its event loop
(bench/probe.py: `{ __typename }` every 10 ms on a connection of its own; a pause is a
probe that waited over 100 ms). When the load stops it sends SIGTERM to uvicorn at once
(the last requests still in flight, as a deploy would) and times its exit (uvicorn
re-raises SIGTERM once it has shut down, so a clean exit's status is -15). Prints a
markdown summary; exits 1 when a request failed before SIGTERM or the RSS passed the
ceiling.

`--pad BYTES` ends each document with a comment of that many bytes (comments are not
tokens: only the byte bounds count them), and `--apq` sends each as Apollo's APQ does a text
the server did not know (text and hash: the server stores it in Redis, for the anonymous
client). The summary then also gives Redis's memory before and after, and what the client's
APQ documents hold there: the soak of stores that must stay within their bounds
(PINQL_DOCUMENT_CACHE_MB and PINQL_PLAN_CACHE_MB in the worker, the per-client APQ quota in
Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.dataset import SERVER_URL, ensure_dataset
from bench.harness import harness
from bench.plan_documents import generate
from bench.plans_load import MIB, TABLE_EVERY, Load, drive
from bench.probe import Latencies, Probe, latencies, percentile
from bench.redis_use import RedisUse, used_memory
from resolvers.ids import encode_global_id

GRACEFUL_TIMEOUT = 30
"""`pinql serve --graceful-timeout`'s default (server/cli/run.py)."""
EXIT_MARGIN = 30
"""Seconds past the graceful timeout to wait for uvicorn's exit before killing it."""
PROBE_INTERVAL = 0.010
PAUSE = 0.100
"""A probe waiting longer than this, in seconds, is a pause."""
DATABASE, SCALE = "pinql_plans_soak", 0.1
"""The data set served unless --database-url says otherwise."""
LOG_TAIL = 4000
"""Characters of the server's log printed after the summary."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.plans_soak",
        description="Distinct documents sent to one worker: its RSS, event-loop pauses, exit.",
    )
    parser.add_argument("--documents", type=int, default=2000, help="distinct documents")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument(
        "--fast-path",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the server's PINQL_FAST_PATH",
    )
    parser.add_argument("--seed", type=int, default=0, help="of the documents and variables")
    parser.add_argument("--connections", type=int, default=4, help="concurrent requests")
    parser.add_argument("--repeats", type=int, default=3, help="sends of a document in a row")
    parser.add_argument(
        "--rss-ceiling",
        type=int,
        default=3072,
        metavar="MIB",
        help="stop the load once the worker's RSS passes this",
    )
    parser.add_argument(
        "--graceful-timeout",
        type=int,
        default=GRACEFUL_TIMEOUT,
        metavar="SECONDS",
        help="uvicorn's --timeout-graceful-shutdown (pinql serve's default: 30)",
    )
    parser.add_argument(
        "--pad",
        type=int,
        default=0,
        metavar="BYTES",
        help="a comment of this many bytes at the end of each document",
    )
    parser.add_argument(
        "--apq", action="store_true", help="send each document as APQ (text and hash)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"a migrated database with data (default: {DATABASE}, seeded if absent)",
    )
    args = parser.parse_args(argv)
    if (
        args.documents < 1
        or args.duration <= 0
        or args.connections < 1
        or args.repeats < 1
        or args.rss_ceiling < 1
        or args.graceful_timeout < 0
        or args.pad < 0
    ):
        parser.error(
            "--documents, --connections, --repeats and --rss-ceiling must be >= 1, "
            "--duration > 0, --graceful-timeout and --pad >= 0"
        )
    return args


@dataclass(frozen=True, slots=True)
class Summary:
    """A soak's results."""

    command: str
    date: datetime
    args: argparse.Namespace
    database: str
    generated_seconds: float
    load: Load
    probe: Latencies
    exit_seconds: float | None
    """SIGTERM to exit; None: still running after the graceful timeout and EXIT_MARGIN."""
    exit_code: int | None
    log: str
    """The server's output (warnings and errors), its end."""
    redis: RedisUse | None = None
    """With --apq: Redis before and after the load."""

    @property
    def rss_mib(self) -> tuple[float, float, float]:
        """The worker's RSS at the start, its most, and at the end, in MiB."""
        sizes = [rss / MIB for _, rss in self.load.rss] or [0.0]
        return sizes[0], max(sizes), sizes[-1]

    def markdown(self) -> str:
        """The summary as a markdown section."""
        args, load, probe = self.args, self.load, self.probe
        start, most, end = self.rss_mib
        passes = load.requests / (args.documents * args.repeats)
        rate = load.requests / load.seconds if load.seconds else 0.0
        ceiling = (
            f"**passed at {load.ceiling_at:.0f} s: load stopped**"
            if load.ceiling_at is not None
            else "not reached"
        )
        if self.exit_seconds is None:
            exited = (
                f"**still running {args.graceful_timeout + EXIT_MARGIN} s after SIGTERM: killed**"
            )
        else:
            exited = f"{self.exit_seconds:.1f} s, exit status {self.exit_code}"
        codes = "".join(
            f"{', ' if i else ': '}{code} {n:,}"
            for i, (code, n) in enumerate(load.codes.most_common(4))
        )
        lines = [
            "## Plans soak",
            "",
            f"`{self.command}` on {self.date:%Y-%m-%d %H:%M} UTC: fast path "
            f"**{'on' if args.fast_path else 'off'}**; one uvicorn worker serving "
            f"`{self.database}`; {args.connections} connections, each document sent "
            f"{args.repeats} times in a row; seed {args.seed}"
            + (f"; each padded with a {args.pad:,}-byte comment" if args.pad else "")
            + ("; sent by APQ" if args.apq else "")
            + ".",
            "",
            "| | |",
            "|---|---|",
            f"| documents | {args.documents:,} generated in {self.generated_seconds:.0f} s; "
            f"{len(load.sent):,} distinct sent ({passes:.2f} passes) |",
            f"| requests | {load.requests:,} in {load.seconds:.1f} s ({rate:.1f}/s): "
            f"{load.answered:,} answered 200 with data ({load.with_errors:,} of them with "
            f"errors{codes}), {load.failures:,} failed |",
            f"| answer latency | p50 {1000 * percentile(load.seconds_each, 0.5):,.0f} ms, "
            f"p99 {1000 * percentile(load.seconds_each, 0.99):,.0f} ms, "
            f"max {1000 * max(load.seconds_each, default=0.0):,.0f} ms |",
            f"| worker RSS | {start:.1f} MiB at the start, {most:.1f} at most, {end:.1f} at the "
            f"end (ceiling {args.rss_ceiling:,} MiB: {ceiling}) |",
            f"| event loop (a probe every {PROBE_INTERVAL * 1000:g} ms) | {probe.probes:,} "
            f"probes: max {probe.max_ms:,.0f} ms, p99 {probe.p99_ms:,.0f} ms; {probe.pauses:,} "
            f"pauses over {PAUSE * 1000:g} ms ({probe.paused_seconds:.1f} s in all); "
            f"{probe.failed} failed |",
            f"| SIGTERM to exit | {exited} (--timeout-graceful-shutdown "
            f"{args.graceful_timeout}; {load.in_flight} requests in flight, "
            f"{load.failed_at_exit} of them failed) |",
            *([self.redis.row()] if self.redis is not None else []),
            "",
            "| t (s) | worker RSS MiB |",
            "|---:|---:|",
        ]
        for t, rss in _table_rows(load.rss):
            lines.append(f"| {t:.0f} | {rss / MIB:.1f} |")
        lines += [f"\nFAILED: {failure}" for failure in load.failed]
        return "\n".join(lines) + "\n"


def _table_rows(samples: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The first sample, one every TABLE_EVERY seconds, and the last."""
    rows: list[tuple[float, int]] = []
    next_at = 0.0
    for t, rss in samples:
        if t >= next_at:
            rows.append((t, rss))
            next_at = (t // TABLE_EVERY + 1) * TABLE_EVERY
    if samples and (not rows or rows[-1] != samples[-1]):
        rows.append(samples[-1])
    return rows


def run(args: argparse.Namespace, command: str) -> Summary:
    """The whole soak: generate, serve, drive, probe, SIGTERM; its summary."""
    env = {"PINQL_FAST_PATH": "true" if args.fast_path else "false"}
    database_url = args.database_url
    if database_url is None:
        ensure_dataset(DATABASE, SCALE)
        database_url = f"{SERVER_URL}/{DATABASE}"
    with harness(
        1, [], env, database_url=database_url, graceful_timeout=args.graceful_timeout
    ) as h:
        subjects = h.subjects
        ids = {
            "User": [encode_global_id("User", subjects.viewer)],
            "Board": [encode_global_id("Board", subjects.board)],
            "Pin": [encode_global_id("Pin", subjects.repin)],
        }
        started = time.monotonic()
        documents = generate(args.documents, args.seed, ids, [subjects.username])
        documents = [document.padded(args.pad, args.apq) for document in documents]
        generated = time.monotonic() - started
        redis_url = h.environment["REDIS_URL"]
        redis_before = used_memory(redis_url) if args.apq else 0
        print(f"generated {len(documents)} distinct documents in {generated:.0f} s", flush=True)

        def worker_rss() -> int:
            return max(h.meter.rss().values(), default=0)

        probe = Probe(h.server.base, PROBE_INTERVAL)

        def stopped() -> float | None:
            probe.stop()
            return h.server.terminate(args.graceful_timeout + EXIT_MARGIN)

        with probe:
            load, exit_seconds = asyncio.run(
                drive(h.server.base, h.token, documents, args, worker_rss, stopped)
            )
        database = h.environment["DATABASE_URL"].rsplit("/", 1)[-1]
        log = h.server_log.read_text(errors="replace").strip()[-LOG_TAIL:]
        return Summary(
            command=command,
            date=datetime.now(UTC),
            args=args,
            database=database,
            generated_seconds=generated,
            load=load,
            probe=latencies(probe.samples, PAUSE),
            exit_seconds=exit_seconds,
            exit_code=h.server.process.returncode,
            log=log,
            redis=RedisUse.read(redis_url, redis_before) if args.apq else None,
        )


def main(argv: list[str] | None = None) -> int:
    """Runs the soak and prints its summary; 1 when a request failed or the RSS passed the
    ceiling."""
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.plans_soak", *sys.argv[1:]])
    summary = run(args, command)
    print()
    print(summary.markdown())
    if summary.log:
        print(f"server log (warnings and errors), its end:\n{summary.log}")
    return 1 if summary.load.failures or summary.load.ceiling_at is not None else 0


if __name__ == "__main__":
    sys.exit(main())
