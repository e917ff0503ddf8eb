"""The contract: schema.graphql matches the code; every frontend operation validates against it,
and operations/ validates as one document set, the way codegen and the Relay compiler read it."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from schema.build import print_schema
from server.cli import schema_diff
from server.persisted.folder import read_folder

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schema.graphql"
OPERATIONS_DIR = ROOT / "operations"
READS = ["HomeFeed", "BoardPage", "ProfilePage", "PinCloseUp", "LatestPins", "NodeLookup"]
READS += ["SearchPage", "RelatedPins"]
WRITES = ["CreateBoard", "UpdateBoard", "DeleteBoard", "CreatePin", "UpdatePin", "DeletePin"]
WRITES += ["MovePin", "SavePin", "AddComment", "DeleteComment", "FollowUser", "UnfollowUser"]
REQUIRED_OPERATIONS = {
    **{f"{name}.graphql": graphql.OperationType.QUERY for name in READS},
    **{f"{name}.graphql": graphql.OperationType.MUTATION for name in WRITES},
}
DOCUMENTS = {d.path.name: d.text for d in read_folder(OPERATIONS_DIR)}
OPERATION_FILES = sorted(DOCUMENTS)


def test_committed_schema_matches_the_code() -> None:
    diff = schema_diff(SCHEMA_FILE.read_text(), print_schema())
    assert not diff, f"schema.graphql is out of date (run `pinql schema export`):\n{diff}"


def test_operations_folder_holds_every_frontend_operation() -> None:
    missing = set(REQUIRED_OPERATIONS) - set(OPERATION_FILES)
    assert not missing, f"operations/ lacks {sorted(missing)}"


@pytest.fixture(scope="module")
def committed_schema() -> graphql.GraphQLSchema:
    """The contract as the frontend sees it: schema.graphql read from disk."""
    return graphql.build_schema(SCHEMA_FILE.read_text())


@pytest.mark.parametrize("name", OPERATION_FILES)
def test_operation_validates_against_the_committed_schema(
    name: str, committed_schema: graphql.GraphQLSchema
) -> None:
    document = graphql.parse(DOCUMENTS[name])  # with the fragments it uses
    errors = graphql.validate(committed_schema, document)
    assert not errors, f"{name} does not validate:\n" + "\n".join(
        f"  - {error.message} (at {where(error)})" for error in errors
    )


def where(error: graphql.GraphQLError) -> str:
    """An error's locations as `line:column`."""
    return ", ".join(f"{loc.line}:{loc.column}" for loc in error.locations or [])


@pytest.mark.parametrize("name", OPERATION_FILES)
def test_operation_file_holds_one_operation_named_after_it(name: str) -> None:
    document = graphql.parse(DOCUMENTS[name])
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    expected = REQUIRED_OPERATIONS.get(name, graphql.OperationType.QUERY)
    assert [(op.operation, op.name and op.name.value) for op in operations] == [
        (expected, Path(name).stem)
    ]


def test_the_folder_validates_as_one_document_set(
    committed_schema: graphql.GraphQLSchema,
) -> None:
    """Every file in one document, as the Relay compiler, GraphQL Code Generator and
    graphql-inspector read a folder: each fragment defined once and used, each operation
    name unique."""
    texts = [path.read_text() for path in sorted(OPERATIONS_DIR.glob("*.graphql"))]
    document = graphql.parse("\n".join(texts))
    errors = graphql.validate(committed_schema, document)
    assert not errors, "operations/ as one document set:\n" + "\n".join(
        f"  - {error.message}" for error in errors
    )
    fragments = [d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)]
    assert [f.name.value for f in fragments] == ["PinCard"]
