"""Connection fields that need a loader: totalCount, counted only when asked for."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from loaders import Loaders
from loaders.paging import Page


def load_total_count(loaders: Loaders, root: Page[Any]) -> Awaitable[int]:
    """How many items the whole connection holds that the viewer may see (the count
    loader's future; the fast path, schema/fast, calls this)."""
    return root.count()


async def total_count(root: Page[Any]) -> int:
    """How many items the whole connection holds that the viewer may see."""
    return await root.total_count()
