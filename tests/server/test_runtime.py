"""A serving worker tunes its garbage collector at startup (in its own process, as uvicorn
would run it), and the test process is left alone."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from server.runtime import YOUNG_THRESHOLD
from tests.support import SECRET, GraphQLClient

WORKER = """
import asyncio, gc, json
from server.app import create_app

async def main():
    app = create_app()
    async with app.router.lifespan_context(app):
        print(json.dumps({"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}))

asyncio.run(main())
"""


def test_a_worker_freezes_startup_objects_and_collects_young_ones_less_often(
    world_database: str,
) -> None:
    env = {"DATABASE_URL": world_database, "PINQL_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.splitlines()[-1])
    assert state["frozen"] > 10_000  # modules and the schema
    assert state["thresholds"] == [YOUNG_THRESHOLD, 10, 10]


async def test_the_test_process_keeps_its_collector(world_client: GraphQLClient) -> None:
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] != YOUNG_THRESHOLD
