"""The work a new document costs before it runs (parsing and validating it, costing it: tens
of milliseconds for a large one) done on one thread of its own, never on the event loop.

Other requests go on meanwhile: the loop takes the GIL back at least every switch interval
(5 ms). One thread, so that documents arriving together take their turns on it rather than
the loop's share of the CPU; the same document asked for by several requests at once is
worked out once (`once`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Offload:
    """A thread for document work. Create one in the app's lifespan; `close` at its end."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pinql-documents")
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)`, run on the thread (it must not touch what the loop's thread uses
        without a lock: give it its inputs, keep its result)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def once(self, key: Hashable, fn: Callable[..., T], *args: Any) -> T:
        """`run`, shared by the callers that ask for the same `key` while it runs."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self.run(fn, *args))
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        result: T = await asyncio.shield(running)
        return result

    def close(self) -> None:
        """Stops the thread, once what it has begun is done."""
        self._executor.shutdown(wait=True, cancel_futures=True)
