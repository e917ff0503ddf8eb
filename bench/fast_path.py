"""Times one operation in-process on both execution paths: graphql-core's executor
(execution/reference.py) and the engine (execution/engine.py), on the benchmark's data set,
as a worker runs it (startup objects frozen). Prints wall and CPU time per request and the
ratios; no HTTP, one connection, so it isolates the executors' cost.

    .venv/bin/python -m bench.fast_path [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.dataset import DATABASE_URL, ensure_dataset, pick_subjects
from db.pool import Database
from execution.cache import PlanCache
from execution.documents import PreparedDocument, prepare
from execution.run import Runs
from schema.build import build_schema
from server.runtime import tune_garbage_collector

# operations/HomeFeed.graphql with each pin's first three comments (the feed).
HOME_FEED = """
query HomeFeed($first: Int = 20, $after: String) {
  viewer { id username avatarUrl }
  homeFeed(first: $first, after: $after) {
    edges {
      cursor
      node {
        ...PinCard
        comments(first: 3) { nodes { id text createdAt author { id username avatarUrl } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
fragment PinCard on Pin {
  id title image { url width height dominantColor }
  creator { id username displayName avatarUrl }
  board { id name }
  saveCount commentCount
}
"""


async def _answer(
    database: Database, prepared: PreparedDocument, viewer: int, plans: PlanCache | None
) -> None:
    operation = prepared.operation(None)
    assert not isinstance(operation, Exception)
    session = database.session()
    try:
        outcome = await Runs(plans).run(prepared, operation, {"first": 30}, session, viewer)
        assert not outcome.result.errors, outcome.result.errors
    finally:
        await session.close()


async def _main(rounds: int) -> None:
    viewer = (await pick_subjects(DATABASE_URL)).viewer
    database = await Database.connect(DATABASE_URL, min_size=1, max_size=1)
    prepared = prepare(HOME_FEED)
    plans = PlanCache(build_schema()._schema)
    tune_garbage_collector()

    async def timed(cache: PlanCache | None) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            await _answer(database, prepared, viewer, cache)
        return (
            (time.perf_counter() - started) / rounds * 1e3,
            (time.process_time() - cpu) / rounds * 1e3,
        )

    try:
        for cache in (None, plans):  # warm up
            await timed(cache)
        normal = min([await timed(None) for _ in range(5)], key=lambda t: t[1])
        fast = min([await timed(plans) for _ in range(5)], key=lambda t: t[1])
    finally:
        await database.close()
    print(
        f"HomeFeed, 30 pins with 3 comments each, one connection, per request (best of 5 x "
        f"{rounds}): graphql-core {normal[0]:.2f} ms wall, {normal[1]:.2f} ms CPU; engine "
        f"{fast[0]:.2f} ms wall, {fast[1]:.2f} ms CPU; {normal[0] / fast[0]:.2f}x wall, "
        f"{normal[1] / fast[1]:.2f}x CPU"
    )


def main() -> None:
    """Parses the arguments and runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="requests per timing")
    rounds = parser.parse_args().rounds
    ensure_dataset()
    asyncio.run(_main(rounds))


if __name__ == "__main__":
    main()
