"""`python -m bench.inprocess`: one benchmarked request sent N times through the benchmark's
app inside this process (ASGI calls: no sockets, no wrk, no uvicorn), C at a time, and the
CPU it took per request.

What the benchmark cannot give: a figure without the load generator, the network and the
other processes in the way. Under valgrind's callgrind, which counts instructions (the same
count for the same code, however busy the machine), two runs give the instructions of one
request by difference, warm-up and startup cancelled out:

    valgrind --tool=callgrind python -m bench.inprocess --operation board --variant hash -n 240
    valgrind --tool=callgrind python -m bench.inprocess --operation board --variant hash -n 40

(each prints `Collected : <instructions>`: take the difference, divided by 200).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import uvloop
from starlette.applications import Starlette
from starlette.types import Message

from bench.operations import (
    ROOT_FIELDS,
    VARIANTS,
    operations,
    register_client,
    register_operations,
)
from bench.wrk import WrkRequest


@dataclass(frozen=True, slots=True)
class Driven:
    """What N requests took."""

    requests: int
    cpu_seconds: float
    wall_seconds: float
    statuses: Mapping[int, int]
    last_body: bytes

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.requests * 1e6

    @property
    def wall_us_per_request(self) -> float:
        return self.wall_seconds / self.requests * 1e6


async def drive(
    app: Starlette, request: WrkRequest, n: int, concurrency: int, warmup: int = 40
) -> Driven:
    """Runs `app`'s lifespan, sends `request` `warmup` times, then `n` times (`concurrency`
    at a time) and measures those: CPU (this process) and wall time, statuses, a body."""
    if n < 1 or concurrency < 1 or warmup < 0:
        raise ValueError(
            f"n and concurrency must be >= 1, warmup >= 0: got {n}, {concurrency}, {warmup}"
        )
    body = request.body or b""
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    path, _, query = request.path.partition("?")
    statuses: Counter[int] = Counter()
    last_body = [b""]

    async with app.router.lifespan_context(app) as lifespan_state:
        state = dict(lifespan_state or {})

        async def one() -> None:
            sent = False
            chunks: list[bytes] = []

            async def receive() -> Message:
                nonlocal sent
                if sent:  # the request is whole: wait as a connection that stays open
                    await asyncio.Event().wait()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    statuses[message["status"]] += 1
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))

            scope: dict[str, Any] = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": request.method,
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "query_string": query.encode(),
                "root_path": "",
                "headers": headers,
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
                "state": dict(state),  # what uvicorn hands each request
            }
            await app(scope, receive, send)
            last_body[0] = b"".join(chunks)

        async def batch(count: int) -> None:
            turns = asyncio.Semaphore(concurrency)

            async def taking_turns() -> None:
                async with turns:
                    await one()

            await asyncio.gather(*(taking_turns() for _ in range(count)))

        await batch(warmup)
        statuses.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        await batch(n)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Driven(n, cpu, wall, dict(statuses), last_body[0])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inprocess",
        description="One benchmarked request through the benchmark's app, in this process.",
    )
    parser.add_argument("--operation", default="board", choices=ROOT_FIELDS)
    parser.add_argument("--variant", default="hash", choices=sorted(VARIANTS))
    parser.add_argument("-n", type=int, default=400, help="measured requests")
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=40, help="requests before measuring")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Seeds the benchmark's data set if needed, registers operations/ (as the benchmark
    does, in its own Redis database), then drives one operation and prints the figures."""
    args = parse_args(argv)
    # imported here: the app reads its settings from the environment set below
    from bench.app import create
    from bench.dataset import DATABASE_URL, REDIS_URL, ensure_dataset, pick_subjects
    from server.auth import issue_token

    ensure_dataset()
    subjects = asyncio.run(pick_subjects(DATABASE_URL))
    known = operations(subjects)
    if args.operation not in known:
        raise SystemExit(f"--operation must be one of {sorted(known)}, got {args.operation!r}")
    register_operations(REDIS_URL)  # the benchmark's own Redis database, emptied first
    secret = secrets.token_hex(20)
    os.environ.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "PINQL_SECRET": secret,
            "PINQL_RATE_LIMIT": "false",  # as the benchmark: one client from one address
            "PINQL_GC_TUNING": "true",
        }
    )
    key = register_client(DATABASE_URL)
    request = known[args.operation].requests(issue_token(subjects.viewer, secret, 3600), key)
    app = create()
    assert isinstance(app, Starlette)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as the server
        driven = runner.run(
            drive(app, request[args.variant], args.n, args.concurrency, args.warmup)
        )
    print(
        f"{args.operation} {VARIANTS[args.variant]}: {driven.requests} requests, "
        f"{args.concurrency} at a time: {driven.cpu_us_per_request:.0f} µs CPU and "
        f"{driven.wall_us_per_request:.0f} µs wall per request; statuses {driven.statuses}"
    )


if __name__ == "__main__":
    main()
