"""The plans soak: thousands of distinct documents sent to one worker for a bounded time, to
see what per-document state (prepared documents, plans) costs it in memory, event-loop
stalls and shutdown time.

    .venv/bin/python -m bench.plans_soak [--documents 2000] [--duration 120]
        [--fast-path | --no-fast-path] [--seed 0] [--connections 4] [--repeats 3]
        [--rss-ceiling 3072] [--graceful-timeout 30] [--database-url URL]

Generates the documents first (bench/plan_documents.py: hypothesis-graphql with the seed,
rewritten with aliases, fragments and conditions; each text distinct, each accepted by the
default limits). Serves the benchmark's app with uvicorn `--workers 1` and an explicit
`--timeout-graceful-shutdown` (bench/harness.py: the scale-10 data set in `pinql_bench`,
seeded once if absent, or the migrated database of --database-url; rate limits off), with
PINQL_FAST_PATH as asked. Sends each document --repeats times in a row from --connections
connections (its condition variables drawn per request), then the next, starting over once
all were sent, until --duration seconds pass or the worker's RSS passes --rss-ceiling MiB
(then the load stops). Meanwhile it samples the worker's RSS every second and probes its
event loop (bench/probe.py: `{ __typename }` every 10 ms on a connection of its own; a
pause is a probe that waited over 100 ms). When the load stops it sends SIGTERM to uvicorn
at once (the last requests still in flight, as a deploy would) and times its exit (uvicorn
re-raises SIGTERM once it has shut down, so a clean exit's status is -15). Prints a
markdown summary; exits 1 when a request failed before SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson

from bench.harness import harness
from bench.plan_documents import Document, generate
from bench.probe import Latencies, Probe, latencies
from resolvers.ids import encode_global_id

MIB = 2**20
GRACEFUL_TIMEOUT = 30
"""`pinql serve --graceful-timeout`'s default (server/cli/run.py)."""
EXIT_MARGIN = 30
"""Seconds past the graceful timeout to wait for uvicorn's exit before killing it."""
PROBE_INTERVAL = 0.010
PAUSE = 0.100
"""A probe waiting longer than this, in seconds, is a pause."""
SAMPLE_SECONDS = 1.0
TABLE_EVERY = 10
"""Seconds between the rows of the summary's RSS table (and the progress lines)."""
REQUEST_TIMEOUT = 300.0
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
        "--database-url",
        default=None,
        help="a migrated database with data (default: the benchmark's pinql_bench)",
    )
    args = parser.parse_args(argv)
    if (
        args.documents < 1
        or args.duration <= 0
        or args.connections < 1
        or args.repeats < 1
        or args.rss_ceiling < 1
        or args.graceful_timeout < 0
    ):
        parser.error(
            "--documents, --connections, --repeats and --rss-ceiling must be >= 1, "
            "--duration > 0, --graceful-timeout >= 0"
        )
    return args


@dataclass
class Load:
    """What the load did (filled in while it runs)."""

    requests: int = 0
    answered: int = 0
    """HTTP 200 with a `data` object."""
    with_errors: int = 0
    """Of those, answers that also hold `errors` (a field failed)."""
    failed: list[str] = field(default_factory=list)
    """The first few failures (other statuses, transport errors), described."""
    failures: int = 0
    failed_at_exit: int = 0
    """Requests in flight at SIGTERM that failed."""
    sent: set[int] = field(default_factory=set)
    """The documents sent (indices)."""
    rss: list[tuple[float, int]] = field(default_factory=list)
    """(seconds since the load started, the worker's RSS in bytes)."""
    seconds: float = 0.0
    ceiling_at: float | None = None
    """When the RSS passed the ceiling (the load stopped there)."""
    in_flight: int = 0
    """Requests in flight when the load stopped."""


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
        lines = [
            "## Plans soak",
            "",
            f"`{self.command}` on {self.date:%Y-%m-%d %H:%M} UTC: fast path "
            f"**{'on' if args.fast_path else 'off'}**; one uvicorn worker serving "
            f"`{self.database}`; {args.connections} connections, each document sent "
            f"{args.repeats} times in a row; seed {args.seed}.",
            "",
            "| | |",
            "|---|---|",
            f"| documents | {args.documents:,} generated in {self.generated_seconds:.0f} s; "
            f"{len(load.sent):,} distinct sent ({passes:.2f} passes) |",
            f"| requests | {load.requests:,} in {load.seconds:.1f} s ({rate:.1f}/s): "
            f"{load.answered:,} answered 200 with data ({load.with_errors:,} of them with "
            f"errors), {load.failures:,} failed |",
            f"| worker RSS | {start:.1f} MiB at the start, {most:.1f} at most, {end:.1f} at the "
            f"end (ceiling {args.rss_ceiling:,} MiB: {ceiling}) |",
            f"| event loop (a probe every {PROBE_INTERVAL * 1000:g} ms) | {probe.probes:,} "
            f"probes: max {probe.max_ms:,.0f} ms, p99 {probe.p99_ms:,.0f} ms; {probe.pauses:,} "
            f"pauses over {PAUSE * 1000:g} ms ({probe.paused_seconds:.1f} s in all); "
            f"{probe.failed} failed |",
            f"| SIGTERM to exit | {exited} (--timeout-graceful-shutdown "
            f"{args.graceful_timeout}; {load.in_flight} requests in flight, "
            f"{load.failed_at_exit} of them failed) |",
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


def schedule(documents: int, repeats: int) -> Iterator[int]:
    """Document indices to send: each `repeats` times in a row, in order, over and over."""
    for index in itertools.cycle(range(documents)):
        yield from itertools.repeat(index, repeats)


async def drive(
    base: str,
    token: str,
    documents: list[Document],
    args: argparse.Namespace,
    rss: Callable[[], int],
    stopped: Callable[[], float | None],
) -> tuple[Load, float | None]:
    """Sends the documents until the duration ends or the RSS passes the ceiling, then
    calls `stopped` in a thread at once, while the last requests are still in flight (it
    sends SIGTERM and returns the seconds until the server exited); the load and that."""
    load = Load()
    order = schedule(len(documents), args.repeats)
    rng = random.Random(args.seed)
    stop = asyncio.Event()
    started = time.monotonic()
    in_flight = 0

    async def connection(client: httpx.AsyncClient) -> None:
        nonlocal in_flight
        while not stop.is_set():
            index = next(order)
            load.sent.add(index)
            load.requests += 1
            in_flight += 1
            try:
                answer = await client.post("/graphql", json=documents[index].body(rng))
                body = orjson.loads(answer.content) if answer.content else None
            except (httpx.HTTPError, orjson.JSONDecodeError) as error:
                _failed(load, f"document {index}: {type(error).__name__}: {error}", stop)
                continue
            finally:
                in_flight -= 1
            if answer.status_code == 200 and isinstance(body, dict) and "data" in body:
                load.answered += 1
                load.with_errors += "errors" in body
            else:
                what = f"document {index}: HTTP {answer.status_code} {answer.text[:300]}"
                _failed(load, what, stop)

    async def watch() -> None:
        next_line = 0.0
        while not stop.is_set():
            elapsed = time.monotonic() - started
            size = rss()
            load.rss.append((elapsed, size))
            if elapsed >= next_line:
                print(
                    f"{elapsed:5.0f} s  RSS {size / MIB:7.1f} MiB  {load.requests:6} requests  "
                    f"{len(load.sent):5} documents sent  {load.failures} failed",
                    flush=True,
                )
                next_line += TABLE_EVERY
            if size > args.rss_ceiling * MIB:
                load.ceiling_at = elapsed
                print(f"RSS {size / MIB:.0f} MiB passed the ceiling: stopping the load")
                stop.set()
            elif elapsed >= args.duration:
                stop.set()
            else:
                await asyncio.sleep(SAMPLE_SECONDS)
        load.seconds = time.monotonic() - started
        load.in_flight = in_flight

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.connections)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        tasks = [asyncio.create_task(connection(client)) for _ in range(args.connections)]
        await watch()
        exited = asyncio.create_task(asyncio.to_thread(stopped))
        await asyncio.gather(*tasks)
        return load, await exited


def _failed(load: Load, description: str, stop: asyncio.Event) -> None:
    if stop.is_set():
        load.failed_at_exit += 1
        description = f"(in flight at SIGTERM) {description}"
    else:
        load.failures += 1
    if len(load.failed) < 5:
        load.failed.append(description)


def run(args: argparse.Namespace, command: str) -> Summary:
    """The whole soak: generate, serve, drive, probe, SIGTERM; its summary."""
    env = {"PINQL_FAST_PATH": "true" if args.fast_path else "false"}
    with harness(
        1, [], env, database_url=args.database_url, graceful_timeout=args.graceful_timeout
    ) as h:
        subjects = h.subjects
        ids = [
            encode_global_id("User", subjects.viewer),
            encode_global_id("Board", subjects.board),
            encode_global_id("Pin", subjects.repin),
        ]
        started = time.monotonic()
        documents = generate(args.documents, args.seed, ids, [subjects.username])
        generated = time.monotonic() - started
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
        )


def main(argv: list[str] | None = None) -> int:
    """Runs the soak and prints its summary; 1 when a request failed."""
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.plans_soak", *sys.argv[1:]])
    summary = run(args, command)
    print()
    print(summary.markdown())
    if summary.log:
        print(f"server log (warnings and errors), its end:\n{summary.log}")
    return 1 if summary.load.failures else 0


if __name__ == "__main__":
    sys.exit(main())
