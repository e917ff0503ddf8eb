"""Observations tallied in plain dicts as requests go and added to their prometheus-client
metric in bulk: a request makes about fifteen, and prometheus-client takes each one with
its locks (server/metrics.py flushes them before each exposition)."""

from __future__ import annotations

from bisect import bisect_left
from math import inf as INF
from typing import Any

from prometheus_client import Counter, Histogram


class Tallied:
    """One metric's observations, tallied in dicts as requests go and added to the metric
    in bulk (`flush`): before each exposition, and in multiprocess mode every second and
    when the worker stops.

    prometheus-client takes one observation at a time: about 140 bytecodes and two locks
    for a histogram's, some 60 and a lock for a counter's, and a request makes about 15.
    A counter's tally is added with `inc(n)`; a histogram's through its own values
    (`_sum`, `_buckets`, as its `observe` uses them), which tests/server/test_metrics.py
    checks against `observe` itself. The tallies stay small: one entry per label values
    (bounded) and bucket."""

    def __init__(self, metric: Counter | Histogram, buckets: tuple[float, ...] = ()) -> None:
        self.metric = metric
        self.bounds = (*buckets, INF)
        self.tally: dict[Any, int] = {}
        """Counter: label values → count. Histogram: (label values, bucket index) → count."""
        self.sums: dict[tuple[str, ...], float] = {}
        """Histogram: label values → the sum of the observations."""
        self._children: dict[tuple[str, ...], Any] = {}

    def inc(self, labels: tuple[str, ...]) -> None:
        """Counts one (a counter's)."""
        tally = self.tally
        tally[labels] = tally.get(labels, 0) + 1

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        """Observes one value (a histogram's)."""
        key = (labels, bisect_left(self.bounds, value))
        tally, sums = self.tally, self.sums
        tally[key] = tally.get(key, 0) + 1
        sums[labels] = sums.get(labels, 0) + value

    def flush(self) -> None:
        """Adds what was tallied so far to the metric."""
        tally, self.tally = self.tally, {}
        sums, self.sums = self.sums, {}
        if not isinstance(self.metric, Histogram):
            for labels, count in tally.items():
                self._child(labels).inc(count)
            return
        for (labels, bucket), count in tally.items():
            self._child(labels)._buckets[bucket].inc(count)
        for labels, total in sums.items():
            self._child(labels)._sum.inc(total)

    def _child(self, labels: tuple[str, ...]) -> Any:
        child = self._children.get(labels)
        if child is None:
            child = self.metric.labels(*labels) if labels else self.metric
            self._children[labels] = child
        return child


class BatchSizes(Tallied):
    """`pinql_loader_batch_size`: a request runs about ten batches. Tallied by (loader,
    keys), sorted into buckets when flushed (`Tallied`)."""

    def __call__(self, loader: str, size: int) -> None:
        """Counts one batch of `size` keys of `loader` (loaders.base.batch_observer)."""
        key = (loader, size)
        tally = self.tally
        tally[key] = tally.get(key, 0) + 1

    def flush(self) -> None:
        tally, self.tally = self.tally, {}
        for (loader, size), count in tally.items():
            child = self._child((loader,))
            child._sum.inc(size * count)
            child._buckets[bisect_left(self.bounds, size)].inc(count)
