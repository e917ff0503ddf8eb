"""The event-loop probe: `{ __typename }` sent to a server every few milliseconds, from a
thread and a connection of its own, and how long each waited for its answer.

Answering `{ __typename }` takes a worker well under a millisecond, so a probe's latency is
the time it waited for the worker's event loop: a long one is a stall (planning, a garbage
collection, anything else synchronous). The thread keeps the probe's clock apart from the
caller's event loop, which may be busy sending the load. Probes go one at a time: the next
leaves at the next tick of the interval after the previous answer (ticks missed while
waiting are skipped), so a stall of S seconds shows as one probe of about S seconds.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import httpx

QUERY = {"query": "{ __typename }"}
ANSWER = {"__typename": "Query"}


@dataclass(frozen=True, slots=True)
class Sample:
    """One probe: when it left (time.monotonic()), how long until its answer, whether the
    answer was a 200 with the expected data."""

    sent: float
    seconds: float
    ok: bool


@dataclass(frozen=True, slots=True)
class Latencies:
    """What a run of probes saw."""

    probes: int
    failed: int
    max_ms: float
    p99_ms: float
    pauses: int
    """Probes that waited longer than the pause threshold."""
    paused_seconds: float
    """Their latencies, added up."""


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 when empty); `fraction` in 0..1."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latencies(samples: list[Sample], pause_seconds: float) -> Latencies:
    """Max, p99 and pauses (latency over `pause_seconds`) of `samples`."""
    seconds = [s.seconds for s in samples]
    pauses = [s for s in seconds if s > pause_seconds]
    return Latencies(
        probes=len(samples),
        failed=sum(not s.ok for s in samples),
        max_ms=1000 * max(seconds, default=0.0),
        p99_ms=1000 * percentile(seconds, 0.99),
        pauses=len(pauses),
        paused_seconds=sum(pauses),
    )


class Probe:
    """Probes `base`/graphql every `interval` seconds from a thread, between `with` and the
    block's end (which waits for the probe in flight, at most `timeout` seconds)."""

    def __init__(
        self, base: str, interval: float, *, timeout: float = 120.0, path: str = "/graphql"
    ) -> None:
        if interval <= 0:
            raise ValueError(f"the probe's interval must be > 0 seconds, got {interval}")
        self.url = base + path
        self.interval = interval
        self.timeout = timeout
        self.samples: list[Sample] = []
        """Every probe so far, in order (appended by the probe's thread)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-loop-probe", daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops probing; returns once the probe in flight is answered (or timed out)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(timeout=self.timeout, limits=limits) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                delay = next_at - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                sent = time.monotonic()
                try:
                    answer = client.post(self.url, json=QUERY)
                    body = answer.json()
                    ok = answer.status_code == 200 and isinstance(body, dict)
                    ok = ok and body.get("data") == ANSWER
                except (httpx.HTTPError, ValueError):
                    ok = False
                self.samples.append(Sample(sent, time.monotonic() - sent, ok))
                next_at = max(next_at + self.interval, time.monotonic())
