"""Operation manifests: read one (Apollo's, Relay's, or a directory of .graphql files) into
documents to register, each checked against the code's schema; and re-check registrations.

- Apollo: `{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
  [{"id", "body", "name", "type"}]}`; each `id` must be the lowercase hex SHA-256 of `body`.
- Relay: `{"<id>": "<document text>"}`; ids follow `check_document_id`.
- A directory: its `*.graphql` files are one document set (server/persisted/folder.py):
  each file holding an operation is one document, with the fragments it uses from other
  files appended; its id is the SHA-256 of that document (UTF-8, line endings untouched).

A document must parse, validate, and hold exactly one operation (fragments are fine); a
manifest with any bad document is refused as a whole, with every problem listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode

from execution.documents import Preparer, prepare, sha256_hex
from server.persisted.folder import FolderError, folder_documents, graphql_files
from server.persisted.policy import check_document_id
from server.persisted.store import RegisteredDocument, Registration

APOLLO_FORMAT = "apollo-persisted-query-manifest"
APOLLO_VERSION = 1
SHORT_ID = 12


class ManifestError(Exception):
    """A manifest that cannot be registered; the message names the file or document."""


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    """A document's single operation (name, type) and what the schema refuses in it."""

    name: str | None
    type: str | None
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrokenOperation:
    """A registered document the code's schema no longer accepts."""

    client: str
    version: str
    document: RegisteredDocument
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A document as a manifest gives it, before checking."""

    id: str
    body: str
    where: str  # how to point at it when its operation has no name: a file, or its id
    name: str | None = None  # what an Apollo manifest claims
    type: str | None = None


def short_id(document_id: str) -> str:
    """The id cut to 12 characters (with an ellipsis when cut), for messages and listings."""
    return document_id if len(document_id) <= SHORT_ID else document_id[:SHORT_ID] + "…"


def check_document(text: str, prepare: Preparer = prepare) -> CheckedDocument:
    """Parses and validates `text` against the code's schema (and the limits `prepare`
    applies); it must hold one operation."""
    prepared = prepare(text)
    errors = [error.message for error in prepared.errors]
    if prepared.document is None:
        return CheckedDocument(None, None, tuple(errors))
    operations = [
        d for d in prepared.document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(operations) != 1:
        errors.append(f"a document must hold exactly one operation, got {len(operations)}")
        return CheckedDocument(None, None, tuple(errors))
    operation = operations[0]
    name = operation.name.value if operation.name else None
    return CheckedDocument(name, operation.operation.value, tuple(errors))


def load_manifest(path: Path, prepare: Preparer = prepare) -> list[RegisteredDocument]:
    """The documents of an Apollo manifest, a Relay map or a directory of .graphql files,
    all checked; ManifestError (listing every problem) when any is refused."""
    if path.is_dir():
        entries = _directory_entries(path)
    elif path.is_file():
        entries = _json_entries(path)
    else:
        raise ManifestError(f"{path} does not exist")
    if not entries:
        raise ManifestError(f"{path} holds no operations")
    documents: list[RegisteredDocument] = []
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            continue  # the same text twice (same id): register it once
        seen.add(entry.id)
        checked = check_document(entry.body, prepare)
        name = checked.name or entry.name
        label = f"operation {name} ({entry.where})" if name else f"document {entry.where}"
        errors = list(checked.errors)
        if checked.type is not None:
            if entry.name is not None and entry.name != checked.name:
                errors.append(
                    f"the manifest names it {entry.name!r}, its operation is {checked.name!r}"
                )
            if entry.type is not None and entry.type != checked.type:
                errors.append(
                    f"the manifest says {entry.type!r}, its operation is a {checked.type}"
                )
        if errors:
            problems.extend(f"{label}: {error}" for error in errors)
            continue
        assert checked.type is not None
        documents.append(RegisteredDocument(entry.id, entry.body, checked.name, checked.type))
    if problems:
        raise ManifestError(_problems(path, problems))
    return documents


def broken_operations(
    registrations: Iterable[Registration], prepare: Preparer = prepare
) -> list[BrokenOperation]:
    """Every registered document that the code's schema refuses, per client version."""
    checked: dict[str, CheckedDocument] = {}
    broken: list[BrokenOperation] = []
    for registration in registrations:
        for document in registration.documents:
            if document.body not in checked:
                checked[document.body] = check_document(document.body, prepare)
            errors = checked[document.body].errors
            if errors:
                broken.append(
                    BrokenOperation(registration.client, registration.version, document, errors)
                )
    return broken


def _problems(path: Path, problems: list[str]) -> str:
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return f"{path}: {count}:\n" + "\n".join(f"  {p}" for p in problems)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode()
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror}") from None


def _directory_entries(directory: Path) -> list[_Entry]:
    files = graphql_files(directory)
    if not files:
        raise ManifestError(f"{directory} holds no .graphql files")
    try:
        documents = folder_documents([(file, _read_text(file)) for file in files])
    except FolderError as exc:
        raise ManifestError(f"{directory}: {exc}") from None
    return [_Entry(sha256_hex(d.text), d.text, where=str(d.path)) for d in documents]


def _json_entries(path: Path) -> list[_Entry]:
    unknown = (
        f"{path} is not a known manifest: expected Apollo's persisted-query manifest "
        f'({{"format": "{APOLLO_FORMAT}", ...}}), a Relay map ({{"<id>": "<document>"}}) '
        "or a directory of .graphql files"
    )
    try:
        data: Any = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{unknown} (not JSON: {exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(unknown)
    if "format" in data:
        if data["format"] != APOLLO_FORMAT:
            raise ManifestError(f"{unknown} (format {data['format']!r})")
        return _apollo_entries(path, data)
    if all(isinstance(v, str) for v in data.values()):
        return _relay_entries(path, data)
    raise ManifestError(unknown)


def _apollo_entries(path: Path, data: dict[str, Any]) -> list[_Entry]:
    if data.get("version") != APOLLO_VERSION:
        raise ManifestError(
            f"{path}: Apollo manifest version must be {APOLLO_VERSION}, got {data.get('version')!r}"
        )
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f"{path}: Apollo manifest needs an 'operations' list")
    entries = []
    problems = []
    for index, operation in enumerate(operations):
        if not (
            isinstance(operation, dict)
            and isinstance(operation.get("id"), str)
            and isinstance(operation.get("body"), str)
            and isinstance(operation.get("name"), str | None)
            and isinstance(operation.get("type"), str | None)
        ):
            problems.append(
                f"operations[{index}]: needs string 'id' and 'body' (and 'name', 'type')"
            )
            continue
        document_id, body, name = operation["id"], operation["body"], operation.get("name")
        if document_id != sha256_hex(body):
            label = f"operation {name}" if name else f"operations[{index}]"
            problems.append(
                f"{label}: id {document_id!r} is not the SHA-256 of its body "
                f"(lowercase hex; the body hashes to {sha256_hex(body)})"
            )
            continue
        where = f"id {short_id(document_id)}"
        entries.append(_Entry(document_id, body, where, name, operation.get("type")))
    if problems:
        raise ManifestError(_problems(path, problems))
    return entries


def _relay_entries(path: Path, data: dict[str, str]) -> list[_Entry]:
    entries = []
    for document_id, body in data.items():
        try:
            check_document_id(document_id)
        except ValueError as exc:
            raise ManifestError(_problems(path, [str(exc)])) from None
        entries.append(_Entry(document_id, body, f"id {short_id(document_id)}"))
    return entries
