"""The benchmarked operations (operations/*.graphql, the web client's registered documents),
their variables, the three ways each is sent (full query text, hash only, the floor), and
the rows each gets in the table (the first two ways also sent to a baseline's server; the
peer's row: an equivalent query sent to PostGraphile, bench/postgraphile/)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bench.dataset import Subjects
from bench.processes import ROOT
from bench.wrk import WrkRequest
from db import clients
from execution.documents import sha256_hex
from resolvers.ids import encode_global_id
from server.client_keys import KEY_HEADER, key_hash, new_key
from server.persisted.folder import document_of
from server.persisted.manifest import load_manifest
from server.persisted.policy import ClientPolicy, Mode
from server.persisted.store import RedisStore

OPERATIONS_DIR = ROOT / "operations"
SEARCH_QUERY = "home"
"""What SearchPage searches for: a word of pin titles, board names and usernames alike in the
demo data (at scale 10: 23,089 pins, 3,168 boards, 183 users), so all three kinds rank."""
CLIENT = "web"
CLIENT_VERSION = "bench"
ACCEPT = "application/graphql-response+json, application/json;q=0.9"
VARIANTS = {"text": "full text", "hash": "hash only", "floor": "floor"}
"""How an operation is sent, by key: its label in the table."""
BASELINE = "baseline-"
"""The key of a row sent to the baseline's server: this prefix and how it is sent."""
PEER = "peer"
"""The key of the peer's row: PostGraphile sent an equivalent query (bench/postgraphile/)."""
ROWS = {
    "text": "full text",
    "hash": "hash only",
    f"{BASELINE}text": "baseline full text",
    f"{BASELINE}hash": "baseline hash only",
    PEER: "PostGraphile",
    "floor": "floor",
}
"""An operation's rows, by key, in the order they take turns: their labels in the table."""


def row_keys(baseline: bool, peer: bool = False) -> list[str]:
    """An operation's rows in the order they take turns (the baseline's and the peer's only
    if served)."""
    return [
        key for key in ROWS if (baseline or not key.startswith(BASELINE)) and (peer or key != PEER)
    ]


def sent_as(row: str) -> str:
    """How a row sends its operation (a key of VARIANTS): the baseline's as pinql's."""
    return row.removeprefix(BASELINE)


ROOT_FIELDS = {
    "feed": "homeFeed",
    "board": "board",
    "profile": "user",
    "pin": "pin",
    "latest": "pins",
    "nodes": "nodes",
    "search": "search",
    "related": "pin",
}
"""Each benchmarked operation's key and its root field (the operations/ queries; the
mutations are not benchmarked: they write, and the data set must stay as seeded)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One benchmarked operation: its document in operations/ and its variables."""

    key: str
    """A key of ROOT_FIELDS: the floor's route is /floor/<key>."""
    document: str
    variables: dict[str, Any]

    @property
    def name(self) -> str:
        """The operation's name (its file's stem)."""
        return self.document.removesuffix(".graphql")

    @property
    def text(self) -> str:
        """The document, as registered: its file with the fragments it uses."""
        return document_of(OPERATIONS_DIR / self.document)

    def requests(self, token: str, key: str) -> dict[str, WrkRequest]:
        """The operation sent each way (VARIANTS), as the web client (its `key`) with the
        viewer's `token`."""
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "apollographql-client-name": CLIENT,
            "apollographql-client-version": CLIENT_VERSION,
            KEY_HEADER: key,
        }
        text = self.text  # (reads the folder)
        apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}}
        bodies = {
            "text": ("/graphql", {"query": text, "variables": self.variables}),
            "hash": ("/graphql", {"extensions": apq, "variables": self.variables}),
            "floor": (f"/floor/{self.key}", {"variables": self.variables}),
        }
        return {
            variant: WrkRequest(
                f"{self.key} {VARIANTS[variant]}", "POST", path, _json(body), headers
            )
            for variant, (path, body) in bodies.items()
        }


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def operations(subjects: Subjects) -> dict[str, Operation]:
    """Every benchmarked operation, by key, with variables that hit the subjects' rows.
    The feed and the latest pins ask for 30 pins, as the issue's feed does; NodeLookup for
    the subjects' 12 objects; the search for SEARCH_QUERY's first 30 results; the related
    pins of the repin, 30."""
    return {
        "feed": Operation("feed", "HomeFeed.graphql", {"first": 30}),
        "board": Operation(
            "board",
            "BoardPage.graphql",
            {"boardId": encode_global_id("Board", subjects.board), "first": 30},
        ),
        "profile": Operation(
            "profile", "ProfilePage.graphql", {"username": subjects.username, "boardsFirst": 12}
        ),
        "pin": Operation(
            "pin",
            "PinCloseUp.graphql",
            {"pinId": encode_global_id("Pin", subjects.repin), "commentsFirst": 10},
        ),
        "latest": Operation("latest", "LatestPins.graphql", {"first": 30}),
        "nodes": Operation(
            "nodes",
            "NodeLookup.graphql",
            {"ids": [encode_global_id(type_name, id) for type_name, id in subjects.nodes]},
        ),
        "search": Operation("search", "SearchPage.graphql", {"query": SEARCH_QUERY, "first": 30}),
        "related": Operation(
            "related",
            "RelatedPins.graphql",
            {"pinId": encode_global_id("Pin", subjects.repin), "first": 30},
        ),
    }


def register_client(database_url: str) -> str:
    """Registers the web client (policy open) in the database at `database_url`, or gives
    it a new key if it is registered (as `pinql clients add` / `rotate`); its key."""
    key = new_key()

    async def register() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            policy = ClientPolicy(mode=Mode.OPEN).model_dump_json()
            if not await clients.add(conn, CLIENT, policy, key_hash(key)):
                await clients.rotate(conn, CLIENT, key_hash(key), 0)
                await clients.set_policy(conn, CLIENT, policy)
        finally:
            await conn.close()

    asyncio.run(register())
    return key


def register_operations(redis_url: str) -> int:
    """Empties the Redis database at `redis_url` and registers operations/ for the web
    client there (as `pinql operations register` does); how many documents."""
    documents = load_manifest(OPERATIONS_DIR)

    async def register() -> None:
        redis = Redis.from_url(redis_url)
        try:
            await redis.flushdb()
        finally:
            await redis.aclose()
        store = RedisStore.from_url(redis_url, 3600)
        try:
            await store.register(CLIENT, CLIENT_VERSION, documents)
        finally:
            await store.close()

    asyncio.run(register())
    return len(documents)
