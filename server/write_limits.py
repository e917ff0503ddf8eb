"""Per-viewer limits on the writes that reach other people: follows, saves and comments. A
burst of them is what spam, and scraping by following, look like; a person saving or
following at a human pace never meets them. Each root field of a mutation takes one point
from the viewer's bucket for its kind of write (every response key counts: twenty aliased
`followUser` are twenty follows), before anything runs; the buckets are the rate limits'
(Redis, or this process), each `burst` deep, refilling `per_day` a day.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from server.rate_limit import BucketStore, RateLimitUnavailable

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class WriteLimit:
    """How many writes of one kind a viewer may make at once, and a day."""

    kind: str
    burst: int
    per_day: int

    @property
    def restore_rate(self) -> float:
        """Points regained per second."""
        return self.per_day / DAY_SECONDS


LIMITS: Mapping[str, WriteLimit] = {
    "followUser": WriteLimit("follow", burst=50, per_day=400),
    "savePin": WriteLimit("save", burst=100, per_day=1_000),
    "addComment": WriteLimit("comment", burst=30, per_day=300),
}
"""The limited mutations (docs/protection.md states them)."""


@dataclass(frozen=True, slots=True)
class WriteRefusal:
    """Writes over a limit: the error message and when to retry (seconds)."""

    message: str
    retry_after: int | None
    """None: the request can never fit (more at once than a bucket holds)."""


def writes(document: DocumentNode, operation: OperationDefinitionNode) -> Counter[str]:
    """A mutation's root fields by name, each response key once (what graphql-core runs:
    fields of the same key merge), through fragments, whatever their conditions."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    keys: dict[str, set[str]] = {}
    pending: list[SelectionSetNode] = [operation.selection_set]
    spread: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                keys.setdefault(selection.name.value, set()).add(key)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in spread and name in fragments:
                    spread.add(name)
                    pending.append(fragments[name].selection_set)
    return Counter({name: len(found) for name, found in keys.items()})


class WriteLimits:
    """Takes a mutation's limited writes from the viewer's buckets, all or none."""

    def __init__(self, buckets: BucketStore, fail_open: bool) -> None:
        self.buckets = buckets
        self.fail_open = fail_open

    async def take(
        self, viewer_id: int, document: DocumentNode, operation: OperationDefinitionNode
    ) -> WriteRefusal | None:
        """None when every limited write of the mutation fits (its points are taken), else
        why not (nothing is taken). RateLimitUnavailable when the buckets do not answer and
        limits fail closed."""
        taken: list[tuple[str, int, WriteLimit]] = []
        for name, count in sorted(writes(document, operation).items()):
            limit = LIMITS.get(name)
            if limit is None:
                continue
            key = f"wl:{limit.kind}:v:{viewer_id}"
            try:
                got = await self.buckets.take(key, count, limit.burst, limit.restore_rate)
            except RateLimitUnavailable:
                if self.fail_open:
                    continue
                raise
            if not got.allowed:
                for earlier, points, earlier_limit in taken:  # all or none
                    await self._give_back(earlier, points, earlier_limit)
                return _refusal(name, count, got.points, limit)
            taken.append((key, count, limit))
        return None

    async def _give_back(self, key: str, points: int, limit: WriteLimit) -> None:
        with suppress(RateLimitUnavailable):  # (else they come back with the refill)
            await self.buckets.take(key, -points, limit.burst, limit.restore_rate)


def _refusal(name: str, count: int, available: float, limit: WriteLimit) -> WriteRefusal:
    if count > limit.burst:
        return WriteRefusal(
            f"{count} {name} in one request is more than the {limit.burst} a person may make "
            f"at once ({limit.per_day} a day): send fewer",
            None,
        )
    wait = max(1, math.ceil((count - available) / limit.restore_rate))
    return WriteRefusal(
        f"too many {name}: {count} asked, {max(0, math.floor(available))} left of the "
        f"{limit.burst} a person may make at once ({limit.per_day} a day); retry in {wait} s",
        wait,
    )
