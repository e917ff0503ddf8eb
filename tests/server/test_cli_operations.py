"""`pinql operations register/list` and the registered-operations and --base parts of
`pinql schema check`, against the real Redis (its own logical database) and the file store."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from typer.testing import CliRunner

from execution.documents import sha256_hex
from schema.build import print_schema
from server.cli import app
from server.cli.operations import with_store
from server.persisted.folder import document_of, read_folder
from server.persisted.manifest import ManifestError, load_manifest
from server.persisted.store import RegisteredDocument, Registration
from server.settings import Settings
from tests.conftest import MakeDatabase, new_database, redis_url

runner = CliRunner()

REDIS_DB = 13  # this module's own logical database: no other test uses it, so it may flush it
OPERATIONS_DIR = Path(__file__).parents[2] / "operations"
OPERATION_COUNT = len(read_folder(OPERATIONS_DIR))  # PinCard.graphql holds a fragment only
VIEWER = "query ViewerName { viewer { username } }"
TITLES = "query LatestTitles { pins(first: 5) { nodes { id title } } }"
LEGACY = "query LegacyTitles { pins(first: 5) { nodes { id legacyTitle } } }"


@dataclass(frozen=True)
class Store:
    """Which store the CLI uses in a test, and a way to read and write it directly."""

    kind: str

    def registrations(self, client: str | None = None) -> list[Registration]:
        """What the store holds, read the way the server reads it."""
        result: list[Registration] = self._run(lambda s: s.registrations(client))
        return result

    def register(self, client: str, version: str, *documents: RegisteredDocument) -> None:
        """Writes straight into the store, skipping every check the CLI makes."""
        self._run(lambda s: s.register(client, version, documents))

    @staticmethod
    def _run(action: Any) -> Any:
        return with_store(Settings(), action)[0]


@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """The environment without PINQL_ENV, with PINQL_DATA_DIR in a fresh directory."""
    monkeypatch.delenv("PINQL_ENV", raising=False)
    monkeypatch.setenv("PINQL_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


@pytest.fixture
def file_store(no_config: pytest.MonkeyPatch) -> Store:
    """No Redis: the registry file under PINQL_DATA_DIR."""
    no_config.delenv("REDIS_URL", raising=False)
    return Store("file")


@pytest.fixture
async def redis_store(
    no_config: pytest.MonkeyPatch, make_database: MakeDatabase
) -> AsyncIterator[Store]:
    """Redis, on this module's own database, emptied before and after, in front of a fresh
    migrated PostgreSQL database (where registrations live)."""
    url = redis_url(REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    no_config.setenv("REDIS_URL", url)
    no_config.setenv("DATABASE_URL", await new_database(make_database, with_world=False))
    yield Store("redis")
    client.flushdb()
    client.close()


@pytest.fixture(params=["redis", "file"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each store in turn."""
    result: Store = request.getfixturevalue(f"{request.param}_store")
    return result


def apollo_manifest(path: Path, *operations: tuple[str, str], **overrides: Any) -> Path:
    """Writes an Apollo persisted-query manifest of (name, body) pairs to `path`."""
    entries = [
        {"id": sha256_hex(body), "body": body, "name": name, "type": "query"}
        for name, body in operations
    ]
    for entry in entries:
        entry.update(overrides.get(entry["name"], {}))
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": entries}
    path.write_text(json.dumps(manifest))
    return path


def register(source: Path, client: str = "web", version: str = "1.4.0") -> Any:
    return runner.invoke(
        app, ["operations", "register", "--client", client, "--version", version, str(source)]
    )


def flat(output: str) -> str:
    """The output on one line, without the boxes typer draws around usage errors."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    "command", [["operations"], ["operations", "register"], ["operations", "list"]]
)
def test_every_operations_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], prog_name="pinql")
    assert result.exit_code == 0, result.output
    assert "Usage: pinql" in result.output


def test_an_apollo_manifest_is_registered(store: Store, tmp_path: Path) -> None:
    manifest = apollo_manifest(
        tmp_path / "manifest.json", ("ViewerName", VIEWER), ("LatestTitles", TITLES)
    )
    result = register(manifest)
    assert result.exit_code == 0, result.output
    where = "postgresql and redis" if store.kind == "redis" else f"file {tmp_path / 'data'}"
    assert f"registered 2 operations for web 1.4.0 ({where}" in result.output
    [registration] = store.registrations()
    assert (registration.client, registration.version) == ("web", "1.4.0")
    assert sorted(registration.documents, key=lambda d: d.id) == sorted(
        [
            RegisteredDocument(sha256_hex(VIEWER), VIEWER, "ViewerName", "query"),
            RegisteredDocument(sha256_hex(TITLES), TITLES, "LatestTitles", "query"),
        ],
        key=lambda d: d.id,
    )


def test_an_id_that_is_not_the_bodys_sha256_refuses_the_manifest(
    store: Store, tmp_path: Path
) -> None:
    manifest = apollo_manifest(
        tmp_path / "manifest.json",
        ("ViewerName", VIEWER),
        ("LatestTitles", TITLES),
        LatestTitles={"id": sha256_hex(TITLES).upper()},
    )
    result = register(manifest)
    assert result.exit_code == 1
    assert "operation LatestTitles: id " in result.output
    assert "is not the SHA-256 of its body" in result.output
    assert "nothing was registered" in result.output
    assert store.registrations() == []


def test_a_name_or_type_the_document_contradicts_is_refused(
    file_store: Store, tmp_path: Path
) -> None:
    manifest = apollo_manifest(
        tmp_path / "manifest.json",
        ("ViewerName", VIEWER),
        ("LatestTitles", TITLES),
        ViewerName={"name": "Viewer"},
        LatestTitles={"type": "mutation"},
    )
    result = register(manifest)
    assert result.exit_code == 1
    assert "the manifest names it 'Viewer', its operation is 'ViewerName'" in result.output
    assert "operation LatestTitles (id " in result.output
    assert "the manifest says 'mutation', its operation is a query" in result.output
    assert file_store.registrations() == []


def test_a_relay_map_is_registered(file_store: Store, tmp_path: Path) -> None:
    relay_id = hashlib.md5(VIEWER.encode()).hexdigest()  # noqa: S324 (Relay's own ids)
    manifest = tmp_path / "persisted-queries.json"
    manifest.write_text(json.dumps({relay_id: VIEWER}))
    result = register(manifest, client="ios", version="2.0.1+build.7")
    assert result.exit_code == 0, result.output
    assert "registered 1 operation for ios 2.0.1+build.7" in result.output
    assert file_store.registrations("ios") == [
        Registration(
            "ios", "2.0.1+build.7", (RegisteredDocument(relay_id, VIEWER, "ViewerName", "query"),)
        )
    ]


def test_a_relay_id_outside_the_id_rules_is_refused(file_store: Store, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-queries.json"
    manifest.write_text(json.dumps({"not an id!": VIEWER}))
    result = register(manifest)
    assert result.exit_code == 1
    assert "document id must match [A-Za-z0-9_:.-]{1,128}, got 'not an id!'" in result.output
    assert file_store.registrations() == []


def test_the_operations_directory_is_registered(redis_store: Store) -> None:
    result = register(OPERATIONS_DIR, version="dev")
    assert result.exit_code == 0, result.output
    assert f"registered {OPERATION_COUNT} operations for web dev (postgresql and redis)" in (
        result.output
    )
    [registration] = redis_store.registrations("web")
    by_name = {d.name or "": d for d in registration.documents}
    assert sorted(by_name) == sorted(d.path.stem for d in read_folder(OPERATIONS_DIR))
    # HomeFeed spreads PinCard, defined in PinCard.graphql: registered with it appended
    home = (OPERATIONS_DIR / "HomeFeed.graphql").read_text()
    card = (OPERATIONS_DIR / "PinCard.graphql").read_text()
    card = card[card.index("fragment PinCard") :]
    assert "fragment PinCard" not in home
    assert by_name["HomeFeed"].body == f"{home}\n{card}"
    assert by_name["HomeFeed"].id == hashlib.sha256(f"{home}\n{card}".encode()).hexdigest()
    assert {d.type for d in registration.documents} == {"query", "mutation"}
    assert by_name["CreateBoard"].type == "mutation"


def test_one_invalid_document_refuses_the_whole_manifest(store: Store, tmp_path: Path) -> None:
    manifest = apollo_manifest(
        tmp_path / "manifest.json", ("ViewerName", VIEWER), ("LegacyTitles", LEGACY)
    )
    result = register(manifest)
    assert result.exit_code == 1
    assert (
        f"operation LegacyTitles (id {sha256_hex(LEGACY)[:12]}…): "
        "Cannot query field 'legacyTitle' on type 'Pin'."
    ) in result.output
    assert "ViewerName" not in result.output
    assert "nothing was registered" in result.output
    assert store.registrations() == []


def test_every_refused_file_of_a_directory_is_named(file_store: Store, tmp_path: Path) -> None:
    (tmp_path / "Viewer.graphql").write_text(VIEWER)
    (tmp_path / "Legacy.graphql").write_text(LEGACY)
    (tmp_path / "Broken.graphql").write_text("query Broken { viewer { ")
    (tmp_path / "Two.graphql").write_text(VIEWER + "\n" + TITLES)
    result = register(tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path}: 3 problems:" in result.output
    assert f"document {tmp_path / 'Broken.graphql'}: Syntax Error: Expected Name" in result.output
    assert (
        f"operation LegacyTitles ({tmp_path / 'Legacy.graphql'}): "
        "Cannot query field 'legacyTitle' on type 'Pin'."
    ) in result.output
    assert (
        f"document {tmp_path / 'Two.graphql'}: a document must hold exactly one operation, got 2"
    ) in result.output
    assert file_store.registrations() == []


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("query Q { viewer { id } }", "not JSON"),
        ("[1, 2]", "is not a known manifest"),
        ('{"format": "relay", "operations": []}', "format 'relay'"),
        ('{"a": {"body": "{ viewer { id } }"}}', "is not a known manifest"),
    ],
)
def test_an_unknown_format_is_refused_naming_the_file(
    file_store: Store, tmp_path: Path, content: str, detail: str
) -> None:
    source = tmp_path / "ops.json"
    source.write_text(content)
    result = register(source)
    assert result.exit_code == 1
    assert f"{source} is not a known manifest" in result.output
    assert detail in result.output
    with pytest.raises(ManifestError, match="is not a known manifest"):
        load_manifest(source)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--client", "Web", "client name must match [a-z0-9._-]{1,32}, got 'Web'"),
        ("--version", "1.4 beta", "client version must match [A-Za-z0-9._+-]{1,64}"),
    ],
)
def test_a_bad_client_name_or_version_is_a_usage_error(
    file_store: Store, option: str, value: str, message: str
) -> None:
    args = {"--client": "web", "--version": "1.4.0", option: value}
    result = runner.invoke(
        app,
        ["operations", "register", *[x for kv in args.items() for x in kv], str(OPERATIONS_DIR)],
    )
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': {message}" in flat(result.output)
    assert file_store.registrations() == []


def test_list_shows_each_client_version(store: Store, tmp_path: Path) -> None:
    empty = runner.invoke(app, ["operations", "list"])
    assert empty.exit_code == 0, empty.output
    assert "no operations are registered" in empty.output
    assert register(OPERATIONS_DIR, version="dev").exit_code == 0
    manifest = apollo_manifest(tmp_path / "m.json", ("ViewerName", VIEWER))
    assert register(manifest, client="ios", version="2.0").exit_code == 0

    result = runner.invoke(app, ["operations", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "client ios, version 2.0: 1 operation"
    assert re.fullmatch(rf"  {sha256_hex(VIEWER)[:12]}  ViewerName  query", lines[1])
    assert lines[2] == f"client web, version dev: {OPERATION_COUNT} operations"
    home = sha256_hex(document_of(OPERATIONS_DIR / "HomeFeed.graphql"))
    assert re.search(rf"^  {home[:12]}  HomeFeed +query$", result.output, re.MULTILINE)
    assert len(lines) == 2 + 1 + OPERATION_COUNT

    only_web = runner.invoke(app, ["operations", "list", "--client", "web"])
    assert only_web.exit_code == 0, only_web.output
    assert "client ios" not in only_web.output
    assert f"client web, version dev: {OPERATION_COUNT} operations" in only_web.output
    nobody = runner.invoke(app, ["operations", "list", "--client", "android"])
    assert "no operations are registered for client android" in nobody.output


def _current_schema_file(tmp_path: Path) -> Path:
    """An SDL file equal to the code's schema, so the diff part of the check passes."""
    path = tmp_path / "schema.graphql"
    path.write_text(print_schema())
    return path


def test_schema_check_passes_with_valid_registrations(store: Store, tmp_path: Path) -> None:
    assert register(OPERATIONS_DIR, version="dev").exit_code == 0
    sdl = _current_schema_file(tmp_path)
    result = runner.invoke(app, ["schema", "check", "--path", str(sdl)])
    assert result.exit_code == 0, result.output
    assert f"all {OPERATION_COUNT} registered operations validate" in result.output


def test_schema_check_names_a_registered_operation_the_schema_broke(
    store: Store, tmp_path: Path
) -> None:
    assert register(OPERATIONS_DIR, version="dev").exit_code == 0
    # Registered when Pin still had legacyTitle: the CLI would refuse it today.
    store.register(
        "web", "1.3.0", RegisteredDocument(sha256_hex(LEGACY), LEGACY, "LegacyTitles", "query")
    )
    sdl = _current_schema_file(tmp_path)
    result = runner.invoke(app, ["schema", "check", "--path", str(sdl)])
    assert result.exit_code == 1
    assert (
        f"client web, operation LegacyTitles (version 1.3.0, id {sha256_hex(LEGACY)[:12]}…): "
        "Cannot query field 'legacyTitle' on type 'Pin'."
    ) in result.output
    assert f"1 of {OPERATION_COUNT + 1} registered operations no longer validate" in result.output
    assert "HomeFeed" not in result.output


def dead_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_registrations_are_read_from_postgresql_whatever_redis_says(
    redis_store: Store, no_config: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_config.setenv("REDIS_URL", f"redis://127.0.0.1:{dead_port()}/0")
    result = register(OPERATIONS_DIR, version="dev")  # kept in PostgreSQL; Redis is down
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["operations", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"client web, version dev: {OPERATION_COUNT} operations" in listed.output
    checked = runner.invoke(app, ["schema", "check", "--path", str(_current_schema_file(tmp_path))])
    assert checked.exit_code == 0, checked.output


def test_registrations_cannot_be_read_without_postgresql(
    no_config: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_config.setenv("REDIS_URL", redis_url(REDIS_DB))
    no_config.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{dead_port()}/none")
    no_config.setenv("PINQL_DB_CONNECT_TIMEOUT_SECONDS", "1")
    result = runner.invoke(app, ["schema", "check", "--path", str(_current_schema_file(tmp_path))])
    assert result.exit_code == 1
    assert "cannot check the registered operations: the registry in PostgreSQL did not" in (
        result.output
    )
    listed = runner.invoke(app, ["operations", "list"])
    assert listed.exit_code == 1
    assert "cannot list: the registry in PostgreSQL did not answer" in listed.output


def test_base_with_a_removed_field_is_a_breaking_change(file_store: Store, tmp_path: Path) -> None:
    base = tmp_path / "base.graphql"
    base.write_text(
        print_schema().replace(
            "type Pin implements Node {\n", "type Pin implements Node {\n  legacyTitle: String\n"
        )
    )
    sdl = _current_schema_file(tmp_path)
    result = runner.invoke(app, ["schema", "check", "--path", str(sdl), "--base", str(base)])
    assert result.exit_code == 1
    assert "BREAKING FIELD_REMOVED: Field Pin.legacyTitle was removed." in result.output
    assert f"1 breaking change(s) since {base}" in result.output


def test_base_with_only_dangerous_changes_passes_with_warnings(
    file_store: Store, tmp_path: Path
) -> None:
    base = tmp_path / "base.graphql"
    base.write_text(
        print_schema().replace("enum BoardPrivacy {\n  PUBLIC\n", "enum BoardPrivacy {\n")
    )
    sdl = _current_schema_file(tmp_path)
    result = runner.invoke(app, ["schema", "check", "--path", str(sdl), "--base", str(base)])
    assert result.exit_code == 0, result.output
    assert (
        "DANGEROUS VALUE_ADDED_TO_ENUM: Enum value BoardPrivacy.PUBLIC was added." in result.output
    )
    assert "BREAKING" not in result.output
    assert f"no breaking changes since {base}; 1 dangerous change(s) above" in result.output


def test_base_as_a_git_ref_reads_the_committed_schema(file_store: Store) -> None:
    result = runner.invoke(app, ["schema", "check", "--base", "HEAD"])
    assert result.exit_code == 0, result.output
    assert "BREAKING" not in result.output
    assert "since HEAD" in result.output


@pytest.mark.parametrize("base", ["no-such-ref-or-file", "HEAD~100000", "--help"])
def test_a_bad_base_is_a_usage_error(file_store: Store, base: str) -> None:
    result = runner.invoke(app, ["schema", "check", f"--base={base}"])
    assert result.exit_code == 2
    assert f"--base {base!r}" in result.output or "--base must be" in result.output


def test_a_base_that_is_not_sdl_is_a_usage_error(file_store: Store, tmp_path: Path) -> None:
    base = tmp_path / "base.graphql"
    base.write_text("type {")
    result = runner.invoke(app, ["schema", "check", "--base", str(base)])
    assert result.exit_code == 2
    assert f"the base schema ({base}) is not valid SDL" in result.output
