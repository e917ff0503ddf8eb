"""Database faults a request can meet, as pinql's own exceptions: the HTTP edge answers
`DatabaseUnavailable` with 503 SERVICE_UNAVAILABLE and `StatementTimeout` with its own code,
instead of masking them as internal errors. Their messages never hold the DSN or password."""

from __future__ import annotations

import os
import socket


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached, a connection was lost, or no pool connection came free
    in time. The message says which, without connection details."""


class DatabaseLoginRefused(DatabaseUnavailable):
    """PostgreSQL answered but refused pinql's login (password, role or database name): a
    configuration fault. At startup it stops the server; later it is a 503 like any outage."""


class StatementTimeout(Exception):
    """A statement ran past PostgreSQL's statement_timeout (or an operator cancelled it) and
    was cancelled; its transaction, if any, was rolled back."""


def os_error_reason(exc: OSError) -> str:
    """What an OSError says, without the address asyncio puts in its message ("Connect call
    failed ('10.0.0.5', 5432)"): the system's words for its errno, lowercase."""
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror.lower()  # "name or service not known"
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno).lower()  # "connection refused"
    return type(exc).__name__
