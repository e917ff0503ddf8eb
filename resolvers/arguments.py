"""Argument types shared by resolvers: connection paging and IDs, with their descriptions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from loaders.rows import BoardPrivacy
from resolvers.cursors import DEFAULT_FIRST, MAX_FIRST

# Registered here, before any type uses it: a second registration would be a second type.
strawberry.enum(BoardPrivacy, description="Who may see a board: everyone, or only its owner.")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return, 1..{MAX_FIRST} (null: {DEFAULT_FIRST})."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Return the items after this cursor (a previous endCursor)."),
]
NodeId = Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]
