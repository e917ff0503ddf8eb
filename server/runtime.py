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
(tests/schema/test_reference_cycles.py): collections find little, and in-process the board
page costs the same CPU with the collector on or off, so the thresholds stay CPython's.
"""

from __future__ import annotations

import gc


def tune_garbage_collector() -> None:
    """Collects once and freezes the objects built so far (startup)."""
    gc.collect()
    gc.freeze()
