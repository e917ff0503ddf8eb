"""The plans soak's load (bench/plans_soak.py): documents sent from a few connections,
each several times in a row, while the worker's RSS is sampled every second, until the
duration ends or the RSS passes the ceiling; then SIGTERM, the last requests in flight."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import orjson

from bench.plan_documents import Document

MIB = 2**20
SAMPLE_SECONDS = 1.0
TABLE_EVERY = 10
"""Seconds between progress lines (and the rows of the summary's RSS table)."""
REQUEST_TIMEOUT = 300.0


@dataclass
class Load:
    """What the load did (filled in while it runs)."""

    requests: int = 0
    answered: int = 0
    """HTTP 200 with a `data` object."""
    with_errors: int = 0
    """Of those, answers that also hold `errors` (a field failed)."""
    codes: Counter[str] = field(default_factory=Counter)
    """The `extensions.code` of those errors."""
    seconds_each: list[float] = field(default_factory=list)
    """Each answered request's latency."""
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
            began = time.monotonic()
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
                load.seconds_each.append(time.monotonic() - began)
                if body.get("errors"):
                    load.with_errors += 1
                    load.codes.update(_codes(body["errors"]))
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


def _codes(errors: object) -> list[str]:
    """The `extensions.code` of each error of a response."""
    if not isinstance(errors, list):
        return ["?"]
    return [
        str((error.get("extensions") or {}).get("code", "?")) if isinstance(error, dict) else "?"
        for error in errors
    ]


def _failed(load: Load, description: str, stop: asyncio.Event) -> None:
    if stop.is_set():
        load.failed_at_exit += 1
        description = f"(in flight at SIGTERM) {description}"
    else:
        load.failures += 1
    if len(load.failed) < 5:
        load.failed.append(description)
