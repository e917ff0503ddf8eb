"""The per-request context every resolver receives: the viewer and that request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from db.pool import Session
from loaders import Loaders


@dataclass(frozen=True, slots=True)
class Context:
    """What one GraphQL request carries down to its resolvers: its loaders, and its session
    (one connection) for writes."""

    loaders: Loaders
    session: Session

    @property
    def viewer_id(self) -> int | None:
        """The signed-in user's id, or None when anonymous."""
        return self.loaders.viewer_id


Info = strawberry.Info[Context, None]
