"""Admission of one operation before it runs: introspection allowed for the client, requested
cost under PINQL_MAX_QUERY_COST, the cost taken from the viewer's (or address's) rate-limit
bucket, and a mutation's follows, saves and comments from the viewer's write limits
(server/write_limits.py). After execution, `settle` charges what the response held (a
refund of what it did not use, or the excess when it held more than requested) and gives the
`extensions.cost` every executed response carries (Shopify's shape)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType

from execution.documents import PreparedDocument
from execution.errors import request_error
from schema.build import build_schema
from server.cost import actual_cost, cost_error, surcharge_of, surcharges
from server.cost_memo import RequestedCosts
from server.graphql_http import RequestError
from server.offload import Offload
from server.rate_limit import RateLimiter, RateLimitUnavailable, Throttle, bucket_key
from server.settings import Settings
from server.write_limits import WriteLimits

log = logging.getLogger("pinql.admission")

INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
THROTTLED = "THROTTLED"
WRITE_LIMITED = "WRITE_LIMITED"
UNAVAILABLE = "SERVICE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Admitted:
    """An operation allowed to run: its requested cost and the bucket it was taken from."""

    requested: int
    mutation: bool
    key: str | None = None
    throttle: Throttle | None = None
    surcharged: Mapping[str, int] = field(default_factory=dict)
    """The root fields with a surcharge (server/cost.py), by response key: charged again
    by `settle` when they ran."""

    def headers(self) -> dict[str, str]:
        """x-ratelimit-* headers, when the request went through a bucket."""
        return self.throttle.headers() if self.throttle is not None else {}


@dataclass(frozen=True, slots=True)
class Refused:
    """An operation refused before it ran: a request error (no data) or an HTTP refusal."""

    errors: list[GraphQLError] | None = None
    http: RequestError | None = None
    cost: dict[str, Any] | None = None


class Admission:
    """The checks between a valid document and its execution, with their settings."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None, offload: Offload) -> None:
        self.settings = settings
        self.limiter = limiter
        self.writes = WriteLimits(limiter.buckets, limiter.fail_open) if limiter else None
        self.schema = build_schema()._schema
        self.requested_cost = RequestedCosts(self.schema, offload)
        root = self.schema.query_type
        self.surcharged_roots = frozenset(
            name for name, f in (root.fields.items() if root else ()) if surcharge_of(f)
        )
        """Query fields with a surcharge: an operation selecting none of them has none."""
        self._settling: set[asyncio.Task[None]] = set()

    async def admit(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        client: str,
        viewer_id: int | None,
        address: str | None,
    ) -> Admitted | Refused:
        """Whether this operation may run now, and at what cost."""
        assert prepared.document is not None
        if prepared.introspects and not self.settings.introspection_allowed(client):
            message = (
                f"introspection is disabled for client {client!r} "
                "(PINQL_INTROSPECTION, PINQL_INTROSPECTION_CLIENTS)"
            )
            return Refused(errors=[request_error(message, INTROSPECTION_DISABLED)])
        mutation = operation.operation is OperationType.MUTATION
        requested = await self.requested_cost(
            prepared.sha256, prepared.document, operation, variables
        )
        if requested > self.settings.max_query_cost:
            cost = {"requestedQueryCost": requested, "actualQueryCost": None}
            return Refused(errors=[cost_error(requested, self.settings.max_query_cost)], cost=cost)
        surcharged = self._surcharged(prepared, operation, variables)
        if self.limiter is None:
            return Admitted(requested, mutation, surcharged=surcharged)
        key = bucket_key(viewer_id, address)
        try:
            throttle = await self.limiter.take(key, requested)
        except RateLimitUnavailable as exc:
            return Refused(http=_unavailable(exc))
        if not throttle.allowed:
            return Refused(
                http=RequestError(
                    429, _throttled(requested, throttle), THROTTLED, throttle.headers()
                ),
                cost=_cost(requested, None, throttle),
            )
        if mutation and viewer_id is not None and self.writes is not None:
            try:
                over = await self.writes.take(viewer_id, prepared.document, operation)
            except RateLimitUnavailable as exc:
                return Refused(http=_unavailable(exc))
            if over is not None:
                wait = {} if over.retry_after is None else {"Retry-After": str(over.retry_after)}
                return Refused(http=RequestError(429, over.message, WRITE_LIMITED, wait))
        return Admitted(requested, mutation, key, throttle, surcharged)

    def _surcharged(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> Mapping[str, int]:
        """The operation's root fields with a surcharge, by response key (none without a
        search field's name in the document: the usual, found without costing anything)."""
        if operation.operation is not OperationType.QUERY or not any(
            name in prepared.text for name in self.surcharged_roots
        ):
            return {}
        assert prepared.document is not None
        return surcharges(self.schema, prepared.document, operation, variables)

    def settle(
        self, admitted: Admitted, data: Mapping[str, Any] | None, objects: int | None = None
    ) -> dict[str, Any]:
        """The response's `extensions.cost`; charges the bucket what the response held, in
        the background: gives back what was requested and not used, or takes the excess (a
        list the requested cost counts as one element can hold more). `objects`: the objects
        `data` holds, when execution counted them (else `data` is walked)."""
        actual = objects
        if actual is None or admitted.mutation:
            actual = actual_cost(data, mutation=admitted.mutation)
        if admitted.surcharged and data:
            actual += sum(n for key, n in admitted.surcharged.items() if data.get(key) is not None)
        throttle = admitted.throttle
        if throttle is not None and admitted.key is not None and actual != admitted.requested:
            assert self.limiter is not None
            owed = actual - admitted.requested
            task = asyncio.create_task(self.limiter.settle(admitted.key, owed))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        return _cost(admitted.requested, actual, throttle)

    async def close(self) -> None:
        """Waits for pending settlements (the lifespan closes the Redis client they use)."""
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)


def _cost(requested: int, actual: int | None, throttle: Throttle | None) -> dict[str, Any]:
    cost: dict[str, Any] = {"requestedQueryCost": requested, "actualQueryCost": actual}
    if throttle is not None:
        refunded = requested - actual if actual is not None else 0
        cost["throttleStatus"] = {
            "maximumAvailable": throttle.maximum,
            "currentlyAvailable": max(0, min(throttle.maximum, throttle.available + refunded)),
            "restoreRate": throttle.restore_rate,
        }
    return cost


def _unavailable(exc: RateLimitUnavailable) -> RequestError:
    message = f"rate limits cannot be checked right now ({exc}); retry in a second"
    return RequestError(503, message, UNAVAILABLE, {"Retry-After": "1"})


def _throttled(requested: int, throttle: Throttle) -> str:
    if requested > throttle.maximum:
        return (
            f"this operation costs {requested} points, more than a full bucket holds "
            f"({throttle.maximum}, PINQL_RATE_LIMIT_MAXIMUM): ask for fewer objects"
        )
    wait = max(1, math.ceil(throttle.retry_after))
    return (
        f"rate limited: this operation costs {requested} points and {throttle.available} are "
        f"available (restoring {throttle.restore_rate:g} per second); retry in {wait} s"
    )
