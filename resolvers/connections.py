"""Connection fields that need a loader: totalCount, counted only when asked for."""

from __future__ import annotations

from typing import Any

from loaders.paging import Page


async def total_count(root: Page[Any]) -> int:
    """How many items the whole connection holds that the viewer may see."""
    return await root.total_count()
