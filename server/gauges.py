"""Gauges of what a process holds: its pool's connections and its caches' weight. Read
when /metrics is scraped (`GaugesCollector`), or, in prometheus-client's multiprocess mode,
written every second by each worker (`sample_every_second`) and summed over the live ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import asyncpg
from prometheus_client import Gauge
from prometheus_client.core import GaugeMetricFamily, Metric

SAMPLE_SECONDS = 1.0
"""Multiprocess mode: how often a worker writes its gauges."""


class Weighed(Protocol):
    """A cache that knows its entries and their weight (execution.cache.PlanCache,
    server.persisted.queries.DocumentCache)."""

    def __len__(self) -> int: ...

    @property
    def weight(self) -> int: ...


class GaugesCollector:
    """Gauges read from the process when scraped: the pool's connections, the caches."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        """The gauges, now."""
        yield from self.read()


def pool_family(pool: asyncpg.Pool) -> GaugeMetricFamily:
    """`pinql_db_pool_connections{state}`: the pool's connections in use and idle, now."""
    family = GaugeMetricFamily(
        "pinql_db_pool_connections", "Open PostgreSQL connections of the pool", labels=["state"]
    )
    idle = pool.get_idle_size()
    family.add_metric(["in_use"], pool.get_size() - idle)
    family.add_metric(["idle"], idle)
    return family


CACHE_BYTES = ("pinql_cache_bytes", "What each in-process cache holds weighs (estimated)")
CACHE_ENTRIES = ("pinql_cache_entries", "Entries each in-process cache holds")


def cache_families(caches: Mapping[str, Weighed]) -> Iterable[Metric]:
    """`pinql_cache_bytes{cache}` and `pinql_cache_entries{cache}`, now."""
    weights = GaugeMetricFamily(*CACHE_BYTES, labels=["cache"])
    entries = GaugeMetricFamily(*CACHE_ENTRIES, labels=["cache"])
    for name, cache in caches.items():
        weights.add_metric([name], cache.weight)
        entries.add_metric([name], len(cache))
    return (weights, entries)


def one(family: Callable[[Any], Metric], source: Any) -> Iterable[Metric]:
    """The one family `family` reads from `source`."""
    return (family(source),)


async def sample_every_second(samples: list[Callable[[], None]], flush: Callable[[], None]) -> None:
    """Multiprocess mode: the gauges and the observations tallied, every second (any worker
    may answer a scrape, and it reads the others' from their files)."""
    while True:
        for sample in samples:
            sample()
        flush()
        await asyncio.sleep(SAMPLE_SECONDS)


def sample_pool(pool: asyncpg.Pool, gauge: Gauge) -> None:
    """Writes the pool's connections in use and idle to `gauge`."""
    idle = pool.get_idle_size()
    gauge.labels("in_use").set(pool.get_size() - idle)
    gauge.labels("idle").set(idle)


def sample_caches(caches: Mapping[str, Weighed], weights: Gauge, entries: Gauge) -> None:
    """Writes each cache's weight and entries to the gauges."""
    for name, cache in caches.items():
        weights.labels(name).set(cache.weight)
        entries.labels(name).set(len(cache))
