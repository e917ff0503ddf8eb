"""Who a request's client really is: registered clients prove their name with a key.

A request names its client with Apollo's client-awareness headers (server/clients.py) and
proves it with `X-API-Key` (the header AWS API Gateway, Apollo GraphOS and most API gateways
read a client's key from; `Authorization` stays the viewer's). The rules:

- no name and no key: the `anonymous` client, with PINQL_ANONYMOUS_POLICY;
- a registered name with one of its valid keys (the current one, or the previous one during
  a rotation's grace period): that client, with its registered policy;
- anything else (a name without a key, a key without a name, an unknown name, a wrong key):
  refused with 401, so a header anyone can set never selects a policy, a rate-limit bucket,
  introspection or a metric label.

Each worker keeps the registered clients in memory (`ClientDirectory`), reads them again
every few seconds, and at once (at most once a second) when a request names a client or key
it does not know, so `pinql clients add` and `rotate` take effect within seconds everywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from db.clients import ClientRow
from db.clients import clients as registered_clients
from db.health import HealthConnection
from execution.errors import UNAVAILABLE
from server.clients import Client
from server.graphql_http import RequestError
from server.persisted.policy import ANONYMOUS, ClientPolicy

log = logging.getLogger("pinql.clients")

KEY_HEADER = "x-api-key"
KEY_PREFIX = "pinql_"
KEY = re.compile(r"pinql_[A-Za-z0-9_-]{43}")
"""A key: the prefix (so secret scanners and people recognise one) and 32 random bytes,
base64url."""
REFRESH_SECONDS = 5.0
"""How often each worker reads the registered clients again."""
MISS_REFRESH_SECONDS = 1.0
"""At most this often, an unknown name or key makes a worker read them again at once."""


class UnauthenticatedClient(RequestError):
    """The client headers do not prove a registered client: 401 (the message says why; it
    never repeats the key)."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message, "CLIENT_UNAUTHENTICATED")


class ClientsUnavailable(RequestError):
    """The registered clients have not been read yet (PostgreSQL unreachable since the
    worker started): a named client can be neither accepted nor refused: 503."""

    def __init__(self, message: str) -> None:
        super().__init__(503, message, UNAVAILABLE, {"Retry-After": "1"})


def new_key() -> str:
    """A new random client key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes:
    """What is stored of a key: its SHA-256."""
    return hashlib.sha256(key.encode()).digest()


def reader(connection: HealthConnection) -> Loader:
    """Reads the registered clients on the server's own connection (db/health.py): outside
    the pool, so the reads never wait behind requests nor count as theirs."""
    return partial(connection.run, registered_clients)


@dataclass(frozen=True, slots=True)
class Registered:
    """A registered client as a worker holds it."""

    policy: ClientPolicy
    key_hash: bytes
    previous_key_hash: bytes | None
    previous_until: float | None
    """Epoch seconds until which the previous key is still accepted."""

    @classmethod
    def of(cls, row: ClientRow) -> Registered:
        until = row.previous_expires_at.timestamp() if row.previous_expires_at else None
        return cls(
            ClientPolicy.model_validate_json(row.policy),
            row.key_hash,
            row.previous_key_hash,
            until,
        )

    def accepts(self, digest: bytes, now: float) -> bool:
        """Whether the key whose hash is `digest` is one of this client's valid keys."""
        if hmac.compare_digest(digest, self.key_hash):
            return True
        return (
            self.previous_key_hash is not None
            and self.previous_until is not None
            and now < self.previous_until
            and hmac.compare_digest(digest, self.previous_key_hash)
        )


Loader = Callable[[], Awaitable[Sequence[ClientRow]]]


class ClientDirectory:
    """The registered clients, as this worker last read them, and the anonymous client's
    policy. `start` reads them and keeps reading them every `refresh_seconds`; when a read
    fails, the last list stays in use and the failure is logged once, with its recovery.
    A worker that starts while PostgreSQL is down serves the anonymous client and answers
    named ones ClientsUnavailable (503) until a read succeeds (retried every second)."""

    def __init__(
        self,
        anonymous_policy: ClientPolicy,
        refresh_seconds: float = REFRESH_SECONDS,
        miss_refresh_seconds: float | None = None,
    ) -> None:
        self._load: Loader | None = None
        self.anonymous_policy = anonymous_policy
        self.refresh_seconds = refresh_seconds
        self.miss_refresh_seconds = (
            min(MISS_REFRESH_SECONDS, refresh_seconds)
            if miss_refresh_seconds is None
            else miss_refresh_seconds
        )
        """The least time between two reads a miss makes; also how often a worker that
        has not read them yet tries again."""
        self._clients: Mapping[str, Registered] = {}
        self._missed_at = float("-inf")
        """When an unknown name or key last made a read (monotonic seconds)."""
        self._reading: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        """Reads that failed (the last list stayed in use)."""
        self._failing = False
        self.loaded = False
        """Whether a read has succeeded."""

    async def start(self, load: Loader) -> None:
        """Reads the clients with `load` (a failure is logged, and retried), then keeps
        them current."""
        self._load = load
        await self._refresh()
        self._task = asyncio.create_task(self._keep_current(), name="pinql-client-directory")

    async def close(self) -> None:
        """Stops reading the clients."""
        for task in (self._task, self._reading):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    def is_registered(self, name: str) -> bool:
        """Whether `name` is a registered client (as last read)."""
        return name in self._clients

    def policy_for(self, name: str) -> ClientPolicy:
        """The policy of an authenticated client; the anonymous policy for `anonymous` (and
        for a client removed since its request was authenticated)."""
        registered = self._clients.get(name)
        return registered.policy if registered is not None else self.anonymous_policy

    async def authenticate(self, client: Client, key: str | None) -> None:
        """Returns when `key` proves `client` (or both are absent: anonymous); else
        UnauthenticatedClient."""
        if client.name == ANONYMOUS:
            if key is None:
                return
            raise UnauthenticatedClient(
                f"an {KEY_HEADER} header needs apollographql-client-name naming its client"
            )
        if not self.loaded:
            await self._read_again()
            if not self.loaded:
                raise ClientsUnavailable(
                    "the registered clients could not be read yet (PostgreSQL unreachable): "
                    f"client {client.name!r} can be checked once they are"
                )
        if key is None:
            raise UnauthenticatedClient(
                f"client {client.name!r} must prove its name with its key in an {KEY_HEADER} "
                "header (keys come from `pinql clients add` or `rotate`)"
            )
        if not KEY.fullmatch(key):
            raise UnauthenticatedClient(
                f"{KEY_HEADER} is not a pinql client key (pinql_ and 43 base64url characters)"
            )
        digest = key_hash(key)
        if self._accepts(client.name, digest):
            return
        await self._read_again()  # added or rotated since the last read?
        if self._accepts(client.name, digest):
            return
        if client.name not in self._clients:
            raise UnauthenticatedClient(
                f"client {client.name!r} is not registered (pinql clients add)"
            )
        raise UnauthenticatedClient(
            f"{KEY_HEADER} is not a valid key of client {client.name!r} (a rotated-out key "
            "stops working when its grace period ends)"
        )

    def _accepts(self, name: str, digest: bytes) -> bool:
        registered = self._clients.get(name)
        return registered is not None and registered.accepts(digest, time.time())

    async def _read_again(self) -> None:
        """Reads the clients now, unless a miss made a read under `miss_refresh_seconds`
        ago (so made-up names cost PostgreSQL at most one read a second); concurrent
        callers share one read."""
        if self._reading is None:
            now = time.monotonic()
            if now - self._missed_at < self.miss_refresh_seconds:
                return
            self._missed_at = now
            self._reading = asyncio.create_task(self._refresh())
            self._reading.add_done_callback(self._read_done)
        await asyncio.shield(self._reading)

    def _read_done(self, task: asyncio.Task[None]) -> None:
        self._reading = None

    async def _keep_current(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds if self.loaded else self.miss_refresh_seconds)
            await self._refresh()

    async def _refresh(self) -> None:
        """Reads the clients; on failure keeps the last list, logging the change of state."""
        assert self._load is not None, "start() first"
        try:
            rows = await self._load()
        except Exception as exc:  # any failure: the last list stays in use
            self.failures += 1
            if not self._failing:
                self._failing = True
                log.warning(
                    "cannot read the registered clients (%s: %s); using the %d read before",
                    type(exc).__name__,
                    exc,
                    len(self._clients),
                )
            return
        if self._failing:
            self._failing = False
            log.info("reading the registered clients again (%d)", len(rows))
        self._apply(rows)

    def _apply(self, rows: Sequence[ClientRow]) -> None:
        self._clients = {row.name: Registered.of(row) for row in rows}
        self.loaded = True
