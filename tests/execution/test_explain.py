"""execution/explain.py: what the engine makes of a document, read from the plan alone. Each
query of operations/ explains with the waves operations/README.md lists, and sends as many
round trips as it explains waves when it runs on the demo data set."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLSchema

from db.pool import Database
from db.waves import combined_sql
from execution.cache import PlanCache
from execution.documents import PreparedDocument, prepare
from execution.explain import Explained, FieldExplained, explain, loaders_in
from execution.explain_text import render
from execution.run import Runs
from loaders.base import PAGED_SQL
from loaders.pins import PinsByBoardIdLoader
from loaders.users import UserByIdLoader
from schema.build import build_schema
from tests.schema.demo import OPERATIONS_DIR, SIZES, Picks, operation, query_files

SCHEMA: GraphQLSchema = build_schema()._schema

# Per query of operations/: the loader classes whose statements each wave sends, as
# operations/README.md's "SQL round trips" table lists them level by level.
WAVES: dict[str, list[set[str]]] = {
    "HomeFeed.graphql": [
        {"UserByIdLoader", "HomeFeedLoader"},  # viewer + feed page
        {"UserByIdLoader", "SaveCountByPinIdLoader", "CommentCountByPinIdLoader"},
    ],
    "BoardPage.graphql": [
        {"BoardByIdLoader"},  # board
        {"PinCountByBoardIdLoader", "UserByIdLoader", "PinsByBoardIdLoader"},
        {
            "ViewerFollowsByUserIdLoader",
            "FollowerCountByUserIdLoader",
            "PinCountByBoardIdLoader",  # the page's total: the page loader's own count loader
            "UserByIdLoader",
            "SaveCountByPinIdLoader",
            "CommentCountByPinIdLoader",
        },
    ],
    "ProfilePage.graphql": [
        {"UserByUsernameLoader"},
        {
            "FollowerCountByUserIdLoader",
            "FollowingCountByUserIdLoader",
            "ViewerFollowsByUserIdLoader",
            "BoardsByOwnerIdLoader",
            "PinsByCreatorIdLoader",
        },
        {
            "BoardCountByOwnerIdLoader",
            "PinCountByBoardIdLoader",
            "PinsByBoardIdLoader",
            "UserByIdLoader",
            "SaveCountByPinIdLoader",
            "CommentCountByPinIdLoader",
        },
    ],
    "PinCloseUp.graphql": [
        {"PinByIdLoader"},
        {
            "SaveCountByPinIdLoader",
            "UserByIdLoader",  # creator and board owner
            "PinByIdLoader",  # savedFrom
            "CommentCountByPinIdLoader",
            "CommentsByPinIdLoader",
        },
        {"ViewerFollowsByUserIdLoader", "UserByIdLoader"},
    ],
    "LatestPins.graphql": [
        {"LatestPinsLoader"},  # boards come with it
        {"UserByIdLoader", "CommentCountByPinIdLoader", "CommentsByPinIdLoader"},
        {"UserByIdLoader"},
    ],
    "NodeLookup.graphql": [
        {"UserByIdLoader", "BoardByIdLoader", "PinByIdLoader", "CommentByIdLoader"},
        {"UserByIdLoader", "PinByIdLoader"},
    ],
    "SearchPage.graphql": [
        {"SearchPinsLoader", "SearchBoardsLoader", "SearchUsersLoader"},
        {
            "UserByIdLoader",  # creators and board owners
            "BoardByIdLoader",  # pins' boards: primed by the search at run time, nothing sent
            "SaveCountByPinIdLoader",
            "CommentCountByPinIdLoader",
            "PinCountByBoardIdLoader",
            "FollowerCountByUserIdLoader",
        },
    ],
    "RelatedPins.graphql": [
        {"PinByIdLoader"},
        {"RelatedPinsLoader"},  # boards come with it
        {"UserByIdLoader", "SaveCountByPinIdLoader", "CommentCountByPinIdLoader"},
    ],
}


def explained_file(name: str, **options: Any) -> Explained:
    return explained_text(operation(name), **options)


def explained_text(text: str, **options: Any) -> Explained:
    """The explanation of a lone operation; planned without a time budget (the node budget
    is what these tests pin, and a garbage collection in the test process could take
    longer than MAX_PLAN_SECONDS)."""
    prepared = prepare(text, max_tokens=10_000)
    assert prepared.valid, prepared.errors
    found = prepared.operation(None)
    assert not isinstance(found, Exception)
    return explain(SCHEMA, prepared, found, **{"max_plan_seconds": 60.0, **options})


def readme_round_trips() -> dict[str, tuple[int, int]]:
    """Per file of operations/README.md's "SQL round trips" table: the signed-in round trips,
    and the levels its fast-path column lists (separated by semicolons)."""
    readme = (OPERATIONS_DIR / "README.md").read_text()
    table = readme[readme.index("## SQL round trips") :]
    found = {}
    for match in re.finditer(r"^\| `(\w+\.graphql)` \| (\d+) \| [^|]+ \| ([^|]+) \|", table, re.M):
        found[match[1]] = (int(match[2]), len(match[3].split(";")))
    return found


def test_every_query_of_operations_is_explained() -> None:
    assert set(WAVES) == query_files()


@pytest.mark.parametrize("name", sorted(WAVES))
def test_a_query_explains_as_planned_with_the_waves_the_readme_lists(name: str) -> None:
    explained = explained_file(name)

    assert (explained.planned, explained.reason) == (True, "planned")
    assert [wave.number for wave in explained.waves] == list(range(1, len(WAVES[name]) + 1))
    got = [{s.loader_class for s in wave.statements} for wave in explained.waves]
    assert got == WAVES[name]
    signed_in, levels = readme_round_trips()[name]
    assert len(explained.waves) == signed_in == levels


def test_the_board_page_explains_each_load_with_its_wave_and_loader() -> None:
    explained = explained_file("BoardPage.graphql")

    loads = [
        [(load.path, load.loader_class or load.function) for load in wave.loads]
        for wave in explained.waves
    ]
    assert loads == [
        [("board", "resolvers.query.board")],
        [
            ("board.pinCount", "PinCountByBoardIdLoader"),
            ("board.owner", "UserByIdLoader"),
            ("board.pins", "resolvers.boards.pins"),
        ],
        [
            ("board.owner.viewerIsFollowing", "ViewerFollowsByUserIdLoader"),
            ("board.owner.followerCount", "FollowerCountByUserIdLoader"),
            ("board.pins.totalCount", "resolvers.connections.total_count"),
            ("board.pins.edges.node.creator", "UserByIdLoader"),
            ("board.pins.edges.node.saveCount", "SaveCountByPinIdLoader"),
            ("board.pins.edges.node.commentCount", "CommentCountByPinIdLoader"),
        ],
    ]
    [known] = explained.known
    assert (known.path, known.loader_class, known.primed_by) == (
        "board.pins.edges.node.board",
        "BoardByIdLoader",
        "PinsByBoardIdLoader",
    )
    assert [s.loader for s in explained.waves[2].statements][2] == "pins_by_board_id.counts"
    assert explained.waves[0].statements[0].sql.startswith("select b.id as id, b.owner_id")
    assert explained.waves[1].statements[2].sql.startswith("select k.ord, c.*\nfrom unnest(")
    assert (explained.size, explained.budget, explained.conditions) == (83, 1000, ())


def test_each_field_says_where_its_value_comes_from() -> None:
    explained = explained_text(
        "{ me: viewer { id username followerCount pins(first: 2) { totalCount } } }"
    )

    (me,) = explained.fields
    assert (me.key, me.name, me.type, me.kind, me.wave) == ("me", "viewer", "User", "loaded", 1)
    assert (me.function, me.names) == ("resolvers.query.viewer", ("user_by_id",))
    id_, username, followers, pins = me.fields
    assert (id_.kind, id_.function, id_.wave) == ("computed", "resolvers.ids.global_id_of", None)
    assert (username.kind, username.source, username.type) == ("attribute", "username", "String!")
    assert (followers.kind, followers.loader, followers.loader_class, followers.wave) == (
        "keyed",
        "follower_count_by_user_id",
        "FollowerCountByUserIdLoader",
        2,
    )
    assert followers.source == (
        "FollowerCountByUserIdLoader (loaders.follower_count_by_user_id) by id"
    )
    (total,) = pins.fields
    assert (pins.wave, pins.names, total.wave, total.names) == (
        2,
        ("pins_by_creator_id",),
        3,
        ("pins_by_creator_id.counts",),
    )


def test_the_text_shows_the_tree_and_the_waves() -> None:
    text = render(explained_text("query Me { viewer { username followerCount } }"))

    assert text.splitlines()[:10] == [
        "Me (query): planned, 6 plan nodes (at most 1000)",
        "conditions: none",
        "",
        "field            kind       wave  from",
        "viewer           loaded        1  resolvers.query.viewer: UserByIdLoader",
        "  username       attribute        username",
        "  followerCount  keyed         2  FollowerCountByUserIdLoader "
        "(loaders.follower_count_by_user_id) by id",
        "",
        "waves: 2, so at most 2 round trips (a loader whose keys are all known sends nothing;",
        "what is below it then loads a wave earlier)",
    ]
    assert text.splitlines()[10:13] == [
        "wave 1: 1 statement",
        "  viewer                resolvers.query.viewer",
        "  UserByIdLoader (loaders.user_by_id):",
    ]
    assert "    select user_id, followers from user_counts where user_id = any($1::bigint[])" in (
        text.splitlines()
    )


def test_an_interface_has_a_subtree_per_runtime_type() -> None:
    explained = explained_file("NodeLookup.graphql")

    (nodes,) = explained.fields
    assert (nodes.coroutine, list(nodes.by_type)) == (True, ["User", "Board", "Pin", "Comment"])
    assert [f.key for f in nodes.by_type["Comment"]] == [
        "__typename",
        "id",
        "text",
        "createdAt",
        "author",
        "pin",
    ]
    assert [load.path for load in explained.waves[1].loads] == [
        "nodes[Board].owner",
        "nodes[Pin].creator",
        "nodes[Comment].author",
        "nodes[Comment].pin",
    ]
    assert "  ... on Comment" in render(explained).splitlines()


CONDITIONAL = """
query Conditional($withOwner: Boolean!, $compact: Boolean!) {
  pins(first: 3) {
    nodes {
      id
      title @skip(if: $compact)
      board @include(if: $withOwner) { owner { username } }
      ...Extra @include(if: $compact)
      ...Extra @skip(if: $withOwner)
    }
  }
}
fragment Extra on Pin { commentCount }
"""


def test_a_conditional_document_lists_its_conditions() -> None:
    explained = explained_text(CONDITIONAL)

    assert explained.conditions == ("compact", "withOwner")
    nodes = explained.fields[0].fields[0]
    when = {f.key: f.when for f in nodes.fields}
    assert when == {
        "id": (),
        "title": ({"compact": False},),
        "board": ({"withOwner": True},),
        "commentCount": ({"compact": True}, {"withOwner": False}),
    }
    assert nodes.fields[2].fields[0].when == ()  # the owner: as its board
    lines = render(explained).splitlines()
    assert lines[1] == "conditions: $compact, $withOwner"
    assert lines[7] == "    title         attribute        title  [if not $compact]"
    assert lines[8].endswith("by board_id: known (LatestPinsLoader brought it)  [if $withOwner]")
    assert (
        lines[9]
        == "      owner       keyed         2  UserByIdLoader (loaders.user_by_id) by owner_id"
    )
    assert lines[11].endswith(
        "(loaders.comment_count_by_pin_id) by id  [if $compact or not $withOwner]"
    )


def test_a_mutation_is_not_planned() -> None:
    explained = explained_file("CreatePin.graphql")

    assert (explained.planned, explained.reason, explained.fields, explained.waves) == (
        False,
        "mutation",
        (),
        (),
    )
    assert render(explained) == "CreatePin (mutation): not planned, runs on graphql-core: mutation"


def test_an_introspection_query_is_not_planned() -> None:
    explained = explained_text("query Types { __schema { types { name } } }")

    assert (explained.planned, explained.reason) == (False, "introspection")
    assert render(explained) == "Types (query): not planned, runs on graphql-core: introspection"


def test_a_document_over_the_node_budget_is_not_planned() -> None:
    titles = " ".join(f"t{i}: title" for i in range(1_000))
    wide = f"{{ pins(first: 1) {{ nodes {{ {titles} }} }} }}"
    explained = explained_text(wide)

    assert (explained.planned, explained.reason, explained.detail, explained.size) == (
        False,
        "size",
        "more than 1000 plan nodes",
        None,
    )
    assert render(explained) == (
        "(anonymous) (query): not planned, runs on graphql-core: size (more than 1000 plan nodes)"
    )
    small = explained_file("BoardPage.graphql", max_plan_nodes=50)
    assert (small.reason, small.detail, small.budget) == ("size", "more than 50 plan nodes", 50)


def test_with_the_engine_off_nothing_is_planned() -> None:
    explained = explained_file("BoardPage.graphql", fast_path=False)

    assert (explained.planned, explained.reason, explained.detail) == (
        False,
        "disabled",
        "PINQL_FAST_PATH=false",
    )


def test_the_json_form_holds_every_field() -> None:
    explained = explained_file("PinCloseUp.graphql")

    parsed = json.loads(json.dumps(explained.as_json()))
    assert parsed["operation"] == "PinCloseUp"
    assert [wave["number"] for wave in parsed["waves"]] == [1, 2, 3]
    assert parsed["known"] == [
        {
            "path": "pin.board",
            "kind": "keyed",
            "loader": "board_by_id",
            "loader_class": "BoardByIdLoader",
            "function": None,
            "primed_by": "PinByIdLoader",
        }
    ]
    pin = parsed["fields"][0]
    assert (pin["key"], pin["wave"], pin["names"]) == ("pin", 1, ["pin_by_id"])
    assert set(pin) == set(FieldExplained.__dataclass_fields__)


@pytest.fixture(scope="module")
async def database(demo_database: str) -> AsyncIterator[Database]:
    database = await Database.connect(demo_database, min_size=1, max_size=2)
    yield database
    await database.close()


@pytest.mark.parametrize("name", sorted(WAVES))
async def test_a_query_sends_as_many_round_trips_as_it_explains_waves(
    database: Database, picks: Picks, name: str
) -> None:
    sent: list[str] = []
    prepared: PreparedDocument = prepare(operation(name))
    found = prepared.operation(None)
    assert not isinstance(found, Exception)
    session = database.session(lambda sql, _seconds, _error: sent.append(sql))
    try:
        outcome = await Runs(PlanCache(SCHEMA)).run(
            prepared, found, SIZES[name](picks)[0], session, picks.subjects.feed_viewer
        )
    finally:
        await session.close()

    assert (outcome.execution, outcome.result.errors) == ("fast", None)
    assert len(sent) == len(explained_file(name).waves)


def test_a_sent_statement_names_the_loaders_whose_statements_it_holds() -> None:
    users, pages = UserByIdLoader.sql, PAGED_SQL.format(body=PinsByBoardIdLoader.body)
    together = combined_sql(((users, 2), (pages, 4), (users, 2)))

    assert loaders_in(together) == ("UserByIdLoader", "PinsByBoardIdLoader", "UserByIdLoader")
    assert loaders_in(pages) == ("PinsByBoardIdLoader",)
    assert loaders_in("select 1") == ()
