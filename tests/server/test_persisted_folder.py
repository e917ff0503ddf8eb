"""A folder of .graphql files as one document set (server/persisted/folder.py): the document
each operation is sent and registered as, and the folders that are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from execution.documents import sha256_hex
from server.persisted.folder import FolderError, document_of, folder_documents, read_folder
from server.persisted.manifest import ManifestError, load_manifest

CARD = "fragment Card on Pin {\n  id\n  ...Who\n}"
WHO = "fragment Who on Pin {\n  creator {\n    username\n  }\n}"
FEED = "query Feed {\n  pins(first: 2) {\n    nodes {\n      ...Card\n    }\n  }\n}\n"


def write(directory: Path, **files: str) -> Path:
    for name, text in files.items():
        (directory / f"{name}.graphql").write_text(text)
    return directory


def test_an_operation_gets_the_fragments_it_uses_from_other_files(tmp_path: Path) -> None:
    write(tmp_path, Feed=FEED, Card=f"# shared\n{CARD}\n", Who=WHO)
    [feed] = read_folder(tmp_path)  # files of fragments only are not operations
    assert feed.path == tmp_path / "Feed.graphql"
    # its text, then each fragment it needs (through Card: Who too), in name order
    assert feed.text == f"{FEED}\n{CARD}\n\n{WHO}\n"
    assert document_of(tmp_path / "Feed.graphql") == feed.text
    [registered] = load_manifest(tmp_path)
    assert (registered.id, registered.body) == (sha256_hex(feed.text), feed.text)


def test_an_operation_defining_what_it_uses_stands_alone(tmp_path: Path) -> None:
    alone = f"{FEED}\n{CARD}\n\n{WHO}\n"
    [document] = folder_documents([(tmp_path / "Feed.graphql", alone)])
    assert document.text == alone


def test_a_fragment_defined_twice_refuses_the_folder(tmp_path: Path) -> None:
    write(tmp_path, Feed=f"{FEED}\n{CARD}\n", Card=CARD, Who=WHO)
    with pytest.raises(FolderError) as error:
        read_folder(tmp_path)
    assert str(error.value) == (
        f"fragment Card is defined twice: in {tmp_path / 'Card.graphql'} and in "
        f"{tmp_path / 'Feed.graphql'} (a folder is one document set: define it once)"
    )
    with pytest.raises(ManifestError, match="fragment Card is defined twice"):
        load_manifest(tmp_path)


def test_a_file_that_does_not_parse_is_checked_as_it_is(tmp_path: Path) -> None:
    write(tmp_path, Broken="query Broken { pins(", Card=CARD, Who=WHO)
    [broken] = read_folder(tmp_path)
    assert broken.text == "query Broken { pins("
    with pytest.raises(ManifestError, match="Syntax Error"):
        load_manifest(tmp_path)


def test_a_file_of_fragments_only_is_no_operation(tmp_path: Path) -> None:
    write(tmp_path, Card=CARD, Who=WHO)
    with pytest.raises(FolderError, match=r"Card\.graphql holds no operation"):
        document_of(tmp_path / "Card.graphql")
