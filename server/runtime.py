"""Process-level tuning for a serving worker: the garbage collector.

A full collection scans every long-lived object. At startup we collect once and freeze
what startup built (modules, the schema, the plans' static parts: never scanned again), so
full collections only scan what requests leave behind.

The thresholds stay CPython's (700, 10, 10). Raising them (50,000, 20, 100 until issue 6)
let cyclic garbage pile up: over a 600 s soak of the feed (`python -m bench --soak 600`) a
worker grew from 96 to 276 MiB (+15 MiB/min) and p99 was 5.2x p50; with the freeze alone it
stays flat (79.3 -> 79.9 MiB over 120 s), serves as many requests (223 vs 212 req/s) and
p99 is 2.4x p50. Measured in docs/benchmarks.md's setting; see the issue 6 closing note.

That garbage was each request's whole graph (its loaders, rows and pages), kept in reference
cycles until a collection found it. Requests now leave no cycle behind
(tests/schema/test_reference_cycles.py), so what a request builds is freed as soon as it is
answered, and a young collection mostly scans the objects of requests still running (32 at
once in the benchmark). Collecting young objects after 10,000 allocations instead of 700
scans them less often: callgrind counts 1.6% fewer instructions per board page by hash at
32 concurrent requests (5.99M -> 5.89M), and the soak stays flat (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations (less deallocations) between two collections of the youngest generation;
the older generations keep CPython's 10 and 10."""


def tune_garbage_collector() -> None:
    """Collects once, freezes the objects built so far (startup), and collects young
    objects less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
