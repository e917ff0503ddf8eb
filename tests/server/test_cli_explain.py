"""`pinql operations explain FILE`: what the engine makes of a document (planned or not and
why, its waves and their SQL), and with --run the round trips it made on the hand-made world
of tests/world.py. Bad input exits 2 naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from loaders.boards import BoardByIdLoader
from resolvers.ids import encode_global_id
from server.cli import app
from tests import world
from tests.execution.test_explain import CONDITIONAL, WAVES, readme_round_trips
from tests.server.condition_documents import condition_document

runner = CliRunner()

OPERATIONS_DIR = Path(__file__).parents[2] / "operations"
TWO = "query Viewer { viewer { id } }\nquery Latest { pins(first: 1) { nodes { id } } }\n"
BOARD = json.dumps({"boardId": encode_global_id("Board", world.OLIVE_PUBLIC)})


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The default settings (no PINQL_ENV), with PINQL_DATA_DIR in a fresh directory."""
    monkeypatch.delenv("PINQL_ENV", raising=False)
    monkeypatch.setenv("PINQL_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


@pytest.fixture
def world_url(settings: pytest.MonkeyPatch, world_database: str) -> str:
    """DATABASE_URL on the hand-made world."""
    settings.setenv("DATABASE_URL", world_database)
    return world_database


def explain(*arguments: str) -> Result:
    return runner.invoke(app, ["operations", "explain", *arguments])


def document(tmp_path: Path, text: str) -> str:
    path = tmp_path / "document.graphql"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", sorted(WAVES))
def test_every_query_of_operations_explains_as_planned_with_its_waves(name: str) -> None:
    result = explain(str(OPERATIONS_DIR / name))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{name.removesuffix('.graphql')} (query): planned, ")
    assert lines[0].endswith(" plan nodes (at most 1000)")
    waves, _levels = readme_round_trips()[name]
    assert f"waves: {waves}, so at most {waves} round trips (a loader" in result.stdout
    assert [line.partition(":")[0] for line in lines if line.startswith("wave ")] == [
        f"wave {n}" for n in range(1, waves + 1)
    ]


def test_the_board_page_lists_each_waves_loads_and_statements() -> None:
    result = explain(str(OPERATIONS_DIR / "BoardPage.graphql"))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    waves = lines[lines.index("wave 1: 1 statement") :]
    loads = [line.split() for line in waves if line.startswith("  board")]
    assert loads == [
        ["board", "resolvers.query.board"],
        ["board.pinCount", "PinCountByBoardIdLoader"],
        ["board.owner", "UserByIdLoader"],
        ["board.pins", "resolvers.boards.pins"],
        ["board.owner.viewerIsFollowing", "ViewerFollowsByUserIdLoader"],
        ["board.owner.followerCount", "FollowerCountByUserIdLoader"],
        ["board.pins.totalCount", "resolvers.connections.total_count"],
        ["board.pins.edges.node.creator", "UserByIdLoader"],
        ["board.pins.edges.node.saveCount", "SaveCountByPinIdLoader"],
        ["board.pins.edges.node.commentCount", "CommentCountByPinIdLoader"],
        [
            "board.pins.edges.node.board",
            "BoardByIdLoader",
            "(PinsByBoardIdLoader",
            "brought",
            "it)",
        ],
    ]
    assert [line for line in waves if line.startswith("wave ")] == [
        "wave 1: 1 statement",
        "wave 2: 3 statements, sent as one",
        "wave 3: 6 statements, sent as one",
    ]
    assert "  PinsByBoardIdLoader (loaders.pins_by_board_id):" in waves
    assert "  PinCountByBoardIdLoader (loaders.pins_by_board_id.counts):" in waves
    paged = (
        "    select k.ord, c.* from unnest($2::bigint[], $3::bigint[], $4::int[]) with ordinality"
    )
    assert f"{paged} as" in waves


def test_a_mutation_explains_as_not_planned() -> None:
    result = explain(str(OPERATIONS_DIR / "CreatePin.graphql"))

    assert result.exit_code == 0, result.output
    assert result.stdout == "CreatePin (mutation): not planned, runs on graphql-core: mutation\n"


def test_an_introspection_query_explains_as_not_planned(tmp_path: Path) -> None:
    result = explain(document(tmp_path, "query Types { __schema { types { name } } }"))

    assert result.exit_code == 0, result.output
    assert result.stdout == "Types (query): not planned, runs on graphql-core: introspection\n"


def test_a_document_over_the_node_budget_explains_as_size(
    tmp_path: Path, settings: pytest.MonkeyPatch
) -> None:
    # the node budget alone decides: the time budget (a backstop) would race it on a busy
    # machine, and say "time"
    settings.setenv("PINQL_MAX_PLAN_MS", "60000")
    result = explain(document(tmp_path, condition_document(4, roots=10).text))

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Conditions (query): not planned, runs on graphql-core: size (more than 1000 plan nodes)\n"
    )
    settings.setenv("PINQL_MAX_PLAN_NODES", "50")
    smaller = explain(str(OPERATIONS_DIR / "BoardPage.graphql"))
    assert smaller.stdout == (
        "BoardPage (query): not planned, runs on graphql-core: size (more than 50 plan nodes)\n"
    )


def test_a_conditional_document_lists_its_conditions(tmp_path: Path) -> None:
    result = explain(document(tmp_path, CONDITIONAL))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "Conditional (query): planned, 19 plan nodes (at most 1000)",
        "conditions: $compact, $withOwner",
    ]
    assert "    title         attribute        title  [if not $compact]" in lines


def test_json_output_parses(tmp_path: Path) -> None:
    result = explain(str(OPERATIONS_DIR / "BoardPage.graphql"), "--json")

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["operation"], found["planned"], found["reason"], found["size"]) == (
        "BoardPage",
        True,
        "planned",
        83,
    )
    assert [[s["loader_class"] for s in wave["statements"]] for wave in found["waves"]][:2] == [
        ["BoardByIdLoader"],
        ["PinCountByBoardIdLoader", "UserByIdLoader", "PinsByBoardIdLoader"],
    ]
    assert "run" not in found


def test_an_operation_is_picked_by_name(tmp_path: Path) -> None:
    result = explain(document(tmp_path, TWO), "--operation", "Latest")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Latest (query): planned, ")


@pytest.mark.parametrize(
    ("viewer", "follows"),
    [([], False), (["--viewer", str(world.OTTO)], True)],
    ids=["anonymous", "otto"],
)
def test_run_prints_each_round_trip(world_url: str, viewer: list[str], follows: bool) -> None:
    page = str(OPERATIONS_DIR / "BoardPage.graphql")
    result = explain(page, "--run", "--variables", BOARD, *viewer)

    assert result.exit_code == 0, result.output
    ran = result.stdout[result.stdout.index("\nran ") + 1 :].splitlines()
    who = f"as viewer {world.OTTO}" if follows else "anonymously"
    assert ran[0] == f"ran {who}: execution fast (planned), no errors"
    assert ran[1].startswith("3 round trips, ")
    trips = [line.split() for line in ran[2:] if line[:4].strip().isdigit()]
    assert [trip[0] for trip in trips] == ["1", "2", "3"]
    assert trips[0][3:] == ["2", "parameters", "BoardByIdLoader"]
    assert ran[3].startswith("      select b.id as id, b.owner_id as owner_id, b.name as name")
    assert ran[3].endswith("…")
    assert trips[1][3:] == [
        "8",
        "parameters",
        "PinCountByBoardIdLoader",
        "+",
        "UserByIdLoader",
        "+",
        "PinsByBoardIdLoader",
    ]
    # Wave 3: the creator of olive's pins is their board's owner, loaded at wave 2: no
    # UserByIdLoader statement; and an anonymous viewer follows nobody: no statement either.
    start = next(i for i, line in enumerate(ran) if line[:4].strip() == "3")
    rows = [ran[start]]
    for line in ran[start + 1 :]:
        if line.lstrip().startswith("select"):
            break
        rows.append(line)
    counts = ["FollowerCountByUserIdLoader", "PinCountByBoardIdLoader"]
    counts += ["SaveCountByPinIdLoader", "CommentCountByPinIdLoader"]
    sent = ["ViewerFollowsByUserIdLoader", *counts] if follows else counts
    parameters = "9" if follows else "7"
    assert " ".join(rows).split()[3:] == [parameters, "parameters", *" + ".join(sent).split()]


def test_run_full_prints_whole_statements_and_json_holds_the_run(world_url: str) -> None:
    page = str(OPERATIONS_DIR / "BoardPage.graphql")
    full = explain(page, "--run", "--full", "--variables", BOARD, "--viewer", str(world.OTTO))

    assert full.exit_code == 0, full.output
    assert "desc limit k.lim) as c) as s)" in full.stdout
    found = json.loads(explain(page, "--json", "--run", "--variables", BOARD).stdout)
    run = found["run"]
    assert (run["viewer"], run["execution"], run["reason"], run["errors"]) == (
        None,
        "fast",
        "planned",
        [],
    )
    assert [trip["loaders"] for trip in run["round_trips"]][:2] == [
        ["BoardByIdLoader"],
        ["PinCountByBoardIdLoader", "UserByIdLoader", "PinsByBoardIdLoader"],
    ]
    assert [trip["parameters"] for trip in run["round_trips"]][:2] == [2, 8]
    assert run["round_trips"][0]["sql"] == BoardByIdLoader.sql  # a lone statement: as it is


def test_run_reports_the_answers_errors(world_url: str) -> None:
    page = str(OPERATIONS_DIR / "BoardPage.graphql")
    result = explain(page, "--run", "--variables", '{"boardId": "nope"}')

    assert result.exit_code == 0, result.output
    ran = result.stdout[result.stdout.index("\nran ") + 1 :].splitlines()
    assert ran[:3] == [
        "ran anonymously: execution fast (planned), 1 error",
        "  board: id is not a valid ID: 'nope' (BAD_USER_INPUT)",
        "0 round trips, 0.0 ms of SQL",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.graphql"], "'missing.graphql' does not exist"),
        (["{two}"], "holds 2 operations (Viewer, Latest): name one with --operation\n"),
        (
            ["{two}", "--operation", "Feed"],
            "has no operation named 'Feed' (it holds: Viewer, Latest)\n",
        ),
        (
            ["{board}", "--run", "--variables", "{boardId: 1}"],
            "--variables is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)\n",
        ),
        (
            ["{board}", "--run", "--variables", "[1]"],
            '--variables must be a JSON object ({"name": value}), got an array\n',
        ),
        (["{board}", "--viewer", "2"], "--variables, --viewer and --full go with --run\n"),
        (
            ["{create}", "--run"],
            "--run runs queries only (it never writes): CreatePin is a mutation\n",
        ),
        (["{board}", "--run", "--viewer", "0"], "Invalid value for '--viewer'"),
    ],
    ids=["missing", "two", "unknown", "json", "array", "no-run", "mutation", "viewer"],
)
def test_bad_input_exits_2_naming_the_problem(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    files = {
        "{two}": document(tmp_path, TWO),
        "{board}": str(OPERATIONS_DIR / "BoardPage.graphql"),
        "{create}": str(OPERATIONS_DIR / "CreatePin.graphql"),
    }
    result = explain(*(files.get(argument, argument) for argument in arguments))

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "query Broken { viewer { id }",
            "GRAPHQL_PARSE_FAILED: Syntax Error: Expected Name, found <EOF>. (line 1 column 29)",
        ),
        (
            "query Unknown { viewer { nope } }",
            "GRAPHQL_VALIDATION_FAILED: Cannot query field 'nope' on type 'User'. "
            "(line 1 column 26)",
        ),
        (
            "query Aliases { viewer { " + " ".join(f"a{i}: id" for i in range(31)) + " } }",
            "TOO_MANY_ALIASES: operation Aliases has 31 aliased fields; the limit is 30 "
            "(PINQL_MAX_ALIASES)",
        ),
    ],
    ids=["syntax", "validation", "limit"],
)
def test_a_document_the_server_refuses_is_reported_as_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    path = document(tmp_path, text)
    result = explain(path)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path} is refused, as the server would refuse it:\n  ")
    assert message in result.stderr
