"""The per-request context every resolver receives: the viewer and that request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from db.pool import Session
from db.write_keys import WriteKey
from loaders import Loaders


@dataclass(frozen=True, slots=True)
class Context:
    """What one GraphQL request carries down to its resolvers: its loaders, its session
    (one connection) for writes, and a keyed mutation's Idempotency-Key."""

    loaders: Loaders
    session: Session
    write_key: WriteKey | None = None

    @property
    def viewer_id(self) -> int | None:
        """The signed-in user's id, or None when anonymous."""
        return self.loaders.viewer_id


Info = strawberry.Info[Context, None]
