"""Process-level tuning for a serving worker: the garbage collector.

CPython's default thresholds (700, 10, 10) run a young collection every 700 allocations,
and a full one whenever the objects that survived into the oldest generation grow by 25%.
A GraphQL request allocates thousands of short-lived objects (tasks, futures, resolver
infos), so young collections run several times per request and promote survivors; each
full collection then scans every long-lived object, including the parsed documents of the
persisted-query cache (~300 objects each). Measured on the benchmark (docs/persisted-
queries.md): with ~1,000 documents cached, full collections took 119 ms each and the feed
operation lost 40% of its throughput.

So at startup we collect once, freeze what startup built (modules, the schema: never
scanned again), and raise the thresholds.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Freezes the objects built so far and raises the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
