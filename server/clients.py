"""Which client sent a request: its name and version, from Apollo's client-awareness headers.

`apollographql-client-name` / `apollographql-client-version` (Apollo Client's
`clientAwareness`), else `graphql-client-name` / `graphql-client-version`; no name means
`anonymous`. Names and versions are validated, so they are safe as Redis key parts and as
metric labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.persisted.policy import ANONYMOUS, check_client_name, check_client_version

NAME_HEADERS = ("apollographql-client-name", "graphql-client-name")
VERSION_HEADERS = ("apollographql-client-version", "graphql-client-version")


class InvalidClient(ValueError):
    """A client header broke its rule (the message says which header and value)."""


@dataclass(frozen=True, slots=True)
class Client:
    """A client application, e.g. web 1.4.0."""

    name: str
    version: str | None = None


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return name, value
    return None


def client_from_headers(headers: Mapping[str, str]) -> Client:
    """The request's client; InvalidClient when a header is malformed."""
    name = _first(headers, NAME_HEADERS)
    version = _first(headers, VERSION_HEADERS)
    try:
        client = check_client_name(name[1]) if name else ANONYMOUS
    except ValueError as exc:
        raise InvalidClient(f"{name[0] if name else ''} header: {exc}") from None
    try:
        return Client(client, check_client_version(version[1]) if version else None)
    except ValueError as exc:
        raise InvalidClient(f"{version[0] if version else ''} header: {exc}") from None
