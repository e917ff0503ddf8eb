"""What planning one document may cost: a number of plan nodes and a time, so that nothing a
client sends holds the event loop long. A document over either is not planned (it runs on
graphql-core's path), and is remembered as such (execution/cache.py)."""

from __future__ import annotations

import time

MAX_PLAN_NODES = 1_000
"""Plan nodes (selections walked, fields planned) one document may make: about 4 ms of
planning (each operation in operations/ makes 60 to 90)."""
PLAN_CACHE_BYTES = 64 * 2**20
"""What the plans a process keeps may weigh (execution/cache.py)."""
MAX_PLAN_SECONDS = 0.01
"""CPU time one document's planning may take: a backstop, well above what MAX_PLAN_NODES
take. (The thread's CPU time, not the clock's: time the machine gives other processes is
not the document's.)"""
_CLOCK_EVERY = 64
"""Nodes between two looks at the clock."""


class Unplannable(Exception):
    """The engine does not run this document; `reason` is a short, bounded label
    (server/metrics.py counts executions by it)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Budget:
    """The nodes and time left to one document's planning."""

    __slots__ = ("deadline", "left", "seconds", "spent")

    def __init__(self, nodes: int = MAX_PLAN_NODES, seconds: float = MAX_PLAN_SECONDS) -> None:
        self.left = nodes
        self.spent = 0
        self.seconds = seconds
        self.deadline = time.thread_time() + seconds

    def spend(self, nodes: int = 1) -> None:
        """Counts `nodes` more; raises Unplannable past the size or the time budget."""
        self.left -= nodes
        self.spent += nodes
        if self.left < 0:
            raise Unplannable("size", f"more than {self.spent - 1} plan nodes")
        if self.spent % _CLOCK_EVERY < nodes and time.thread_time() > self.deadline:
            raise Unplannable("time", f"planning took more than {self.seconds * 1000:g} ms")
