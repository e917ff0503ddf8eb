"""How many SQL statements a request runs: pinned per operation, and never growing with list sizes.

Each request is run once before it is counted, so per-connection warm-up (asyncpg's type
introspection) cannot leak into a count, and counted twice, so a count is a stable fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pytest

from resolvers.ids import encode_global_id
from tests.schema.demo import SIZES, Picks, Subjects, operation, query_files
from tests.support import GraphQLClient

MAX_STATEMENTS = 5


class Pinned(NamedTuple):
    """The round trips one request of an operation makes, signed in and anonymous."""

    signed_in: int
    anonymous: int | None
    """None: the operation needs a viewer (anonymous requests get UNAUTHENTICATED)."""


# Measured on the demo data set; see operations/README.md for what each is. On the engine
# (the default) a query's loads go level by level, each level's statements as one round trip
# (db/waves.py); graphql-core's executor (PINQL_FAST_PATH=false) sends each loader's batch
# as a statement of its own.
PINNED: dict[str, Pinned] = {
    "HomeFeed.graphql": Pinned(signed_in=2, anonymous=None),
    "BoardPage.graphql": Pinned(signed_in=3, anonymous=3),
    "ProfilePage.graphql": Pinned(signed_in=3, anonymous=3),
    "PinCloseUp.graphql": Pinned(signed_in=3, anonymous=3),
    "LatestPins.graphql": Pinned(signed_in=3, anonymous=3),
    "NodeLookup.graphql": Pinned(signed_in=2, anonymous=2),
    "SearchPage.graphql": Pinned(signed_in=2, anonymous=2),
    "RelatedPins.graphql": Pinned(signed_in=3, anonymous=3),
}
PINNED_NORMAL_PATH: dict[str, Pinned] = {
    "HomeFeed.graphql": Pinned(signed_in=5, anonymous=None),
    "BoardPage.graphql": Pinned(signed_in=9, anonymous=8),
    "ProfilePage.graphql": Pinned(signed_in=11, anonymous=10),
    "PinCloseUp.graphql": Pinned(signed_in=9, anonymous=8),
    "LatestPins.graphql": Pinned(signed_in=5, anonymous=5),
    "NodeLookup.graphql": Pinned(signed_in=6, anonymous=6),
    "SearchPage.graphql": Pinned(signed_in=6, anonymous=6),
    "RelatedPins.graphql": Pinned(signed_in=5, anonymous=5),
}


# The issue's explore query: the latest pins, each with its board, owner and first comments.
ISSUE_QUERY = """
{
  pins(first: %d) {
    edges {
      node {
        id title image { url width height } createdAt
        creator { id username displayName avatarUrl }
        board { id name owner { id username } }
        commentCount
        comments(first: 3) { nodes { id text author { id username } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def settled_count(
    client: GraphQLClient, query: str, variables: Mapping[str, Any], viewer: int | None
) -> int:
    """The statements of one request, run once beforehand; the same on a second count."""
    await client.data(query, variables, viewer=viewer)
    first = await client.count_statements(query, variables, viewer=viewer)
    again = await client.count_statements(query, variables, viewer=viewer)
    assert first == again, f"{first} statements, then {again} on the same request"
    return first


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_issue_query_runs_at_most_five_statements_whatever_its_size(
    demo_client: GraphQLClient, subjects: Subjects, signed_in: bool
) -> None:
    viewer = subjects.feed_viewer if signed_in else None
    counts = {
        n: await settled_count(demo_client, ISSUE_QUERY % n, {}, viewer) for n in (10, 30, 100)
    }

    assert max(counts.values()) <= MAX_STATEMENTS, counts
    assert len(set(counts.values())) == 1, f"the count depends on pins(first:): {counts}"


def test_every_operation_has_a_pinned_count() -> None:
    assert set(PINNED) == set(PINNED_NORMAL_PATH) == set(SIZES) == query_files()


@pytest.mark.parametrize("name", sorted(PINNED))
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "normal-path"])
async def test_operation_runs_its_pinned_statement_count(
    demo_client: GraphQLClient,
    normal_path_client: GraphQLClient,
    picks: Picks,
    name: str,
    signed_in: bool,
    fast_path: bool,
) -> None:
    client = demo_client if fast_path else normal_path_client
    pinned_counts = PINNED[name] if fast_path else PINNED_NORMAL_PATH[name]
    pinned = pinned_counts.signed_in if signed_in else pinned_counts.anonymous
    viewer = picks.subjects.feed_viewer if signed_in else None
    small, large = SIZES[name](picks)
    query = operation(name)
    if pinned is None:
        client.log.clear()
        body = await client.execute(query, small, viewer=viewer)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert client.log.count == 0, client.log.statements
        return

    counts = [await settled_count(client, query, v, viewer) for v in (small, large)]

    assert counts == [pinned, pinned], f"{name}: {counts} statements for {small} and {large}"
    assert pinned <= MAX_STATEMENTS or not fast_path


# Each pages one connection with `$first`; nested fields make the batching visible.
CONNECTIONS = {
    "pins": "{ pins(first: $first) { totalCount edges { cursor node { id creator { username } "
    "board { name } commentCount } } pageInfo { hasNextPage endCursor } } }",
    "board.pins": "{ board(id: $board) { pins(first: $first) { totalCount nodes { id "
    "creator { username } saveCount } pageInfo { hasNextPage endCursor } } } }",
    "user.boards": "{ user(username: $username) { boards(first: $first) { totalCount "
    "nodes { id pinCount pins(first: $first) { nodes { id } } } } } }",
    "user.pins": "{ user(username: $username) { pins(first: $first) { totalCount "
    "nodes { id board { name } commentCount } } } }",
    "user.followers": "{ user(username: $popular) { followers(first: $first) { totalCount "
    "nodes { id username followerCount viewerIsFollowing } } } }",
    "user.following": "{ user(username: $username) { following(first: $first) { totalCount "
    "nodes { id username followingCount } } } }",
    "pin.comments": "{ pin(id: $pin) { comments(first: $first) { totalCount edges { cursor "
    "node { id author { username } } } pageInfo { hasNextPage endCursor } } } }",
    "homeFeed": "{ homeFeed(first: $first) { totalCount nodes { id creator { username } } "
    "pageInfo { hasNextPage } } }",
}
ARGUMENTS = {
    "$board": "$board: ID!",
    "$username": "$username: String!",
    "$popular": "$popular: String!",
    "$pin": "$pin: ID!",
}


@pytest.mark.parametrize("connection", sorted(CONNECTIONS))
async def test_paging_a_connection_costs_the_same_for_one_item_or_a_hundred(
    demo_client: GraphQLClient, subjects: Subjects, connection: str
) -> None:
    selection = CONNECTIONS[connection]
    declared = ["$first: Int!"] + [d for arg, d in ARGUMENTS.items() if arg in selection]
    query = f"query Paging({', '.join(declared)}) {selection}"
    popular = (
        await demo_client.data(
            "query($id: ID!) { node(id: $id) { ... on User { username } } }",
            {"id": encode_global_id("User", subjects.popular_user)},
        )
    )["node"]["username"]
    every = {
        "board": encode_global_id("Board", subjects.board),
        "username": subjects.profile_username,
        "popular": popular,
        "pin": encode_global_id("Pin", subjects.repin),
    }
    variables = {name: value for name, value in every.items() if f"${name}" in selection}

    counts = [
        await settled_count(demo_client, query, {**variables, "first": first}, subjects.feed_viewer)
        for first in (1, 100)
    ]

    assert counts[0] == counts[1], f"{connection}: {counts[0]} for first: 1, {counts[1]} for 100"
