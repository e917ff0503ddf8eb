"""Connection fields computed from a page: totalCount (counted only when asked for) and the
cursors of its edges and ends."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from loaders import Loaders
from loaders.paging import Page
from resolvers import cursors
from resolvers.fields import computed, loaded


@loaded
def total_count(loaders: Loaders, page: Page[Any]) -> Awaitable[int]:
    """How many items the whole connection holds that the viewer may see."""
    return page.count()


cursor = computed(
    cursors.edge_cursor, of=lambda edge: edge.position, by=lambda _type: cursors.encode_cursor
)
"""An edge's cursor: pass it as `after` to continue after its item."""
start_cursor = computed(cursors.start_cursor)
"""The cursor of a page's first item."""
end_cursor = computed(cursors.end_cursor)
"""The cursor of a page's last item."""
