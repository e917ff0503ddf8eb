"""A folder of .graphql files as one document set, the way frontend tooling reads one (the
Relay compiler, GraphQL Code Generator, Apollo's persisted-query manifest): a fragment is
defined once, in any file, and used from any other.

The document an operation is sent and registered as is its file's text followed by every
fragment it uses (directly or through other fragments) that its file does not define: each
fragment's definition exactly as written, after a blank line, in name order. Files that
hold only fragments are not operations of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphql import (
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)


class FolderError(ValueError):
    """The folder is not one document set (the message names the files)."""


@dataclass(frozen=True, slots=True)
class FolderDocument:
    """One operation file and the document it is sent as."""

    path: Path
    text: str


@dataclass(frozen=True, slots=True)
class _Fragment:
    path: Path
    source: str
    uses: frozenset[str]


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    text: str
    operations: int
    defines: frozenset[str]
    uses: frozenset[str]


def folder_documents(files: list[tuple[Path, str]]) -> list[FolderDocument]:
    """The document of each operation file among `files` (path, text); FolderError when a
    fragment is defined in two places. A file that does not parse is its own document (its
    syntax error is reported where it is checked)."""
    parsed: list[_File] = []
    fragments: dict[str, _Fragment] = {}
    for path, text in files:
        try:
            document = parse(text)
        except GraphQLError:
            parsed.append(_File(path, text, 1, frozenset(), frozenset()))
            continue
        operations = 0
        defines: set[str] = set()
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations += 1
            elif isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in fragments:
                    raise FolderError(
                        f"fragment {name} is defined twice: in {fragments[name].path} and in "
                        f"{path} (a folder is one document set: define it once)"
                    )
                assert definition.loc is not None
                source = text[definition.loc.start : definition.loc.end]
                fragments[name] = _Fragment(path, source, _spreads(definition))
                defines.add(name)
        uses = frozenset().union(*map(_spreads, document.definitions))
        parsed.append(_File(path, text, operations, frozenset(defines), uses))
    return [
        FolderDocument(file.path, _with_fragments(file, fragments))
        for file in parsed
        if file.operations
    ]


def graphql_files(directory: Path) -> list[Path]:
    """The .graphql files under `directory`, in path order."""
    return sorted(p for p in directory.rglob("*.graphql") if p.is_file())


def read_folder(directory: Path) -> list[FolderDocument]:
    """`folder_documents` of every .graphql file under `directory`, in path order."""
    files = graphql_files(directory)
    return folder_documents([(path, path.read_text(encoding="utf-8")) for path in files])


def document_of(path: Path) -> str:
    """The document of the operation file at `path`, its fragments taken from the .graphql
    files of its folder."""
    for document in read_folder(path.parent):
        if document.path == path:
            return document.text
    raise FolderError(f"{path} holds no operation")


def _with_fragments(file: _File, fragments: dict[str, _Fragment]) -> str:
    needed: set[str] = set()
    pending = list(file.uses)
    while pending:
        name = pending.pop()
        if name in needed or name not in fragments:  # unknown: validation says so
            continue
        needed.add(name)
        pending.extend(fragments[name].uses)
    missing = sorted(needed - file.defines)
    if not missing:
        return file.text
    text = file.text if file.text.endswith("\n") else file.text + "\n"
    return text + "".join(f"\n{fragments[name].source}\n" for name in missing)


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def _spreads(node: Node) -> frozenset[str]:
    """The fragments `node` spreads, by name."""
    spreads = _Spreads()
    visit(node, spreads)
    return frozenset(spreads.names)
