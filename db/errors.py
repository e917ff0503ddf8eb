"""Database faults a request can meet, as pinql's own exceptions: the HTTP edge answers
`DatabaseUnavailable` with 503 SERVICE_UNAVAILABLE and `StatementTimeout` with its own code,
instead of masking them as internal errors. Their messages never hold the DSN or password."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from asyncpg import exceptions as pg


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached, a connection was lost, or no pool connection came free
    in time. The message says which, without connection details."""


class DatabaseLoginRefused(DatabaseUnavailable):
    """PostgreSQL answered but refused pinql's login (password, role or database name): a
    configuration fault. At startup it stops the server; later it is a 503 like any outage."""


class CommitUnconfirmed(Exception):
    """A transaction's COMMIT was sent and its answer never came (the connection was lost
    meanwhile): the write may or may not have happened, so nothing may run it again as if
    it had not."""


class StatementTimeout(Exception):
    """A statement ran past PostgreSQL's statement_timeout (or an operator cancelled it) and
    was cancelled; its transaction, if any, was rolled back."""


class LockTimeout(StatementTimeout):
    """A statement waited past PostgreSQL's lock_timeout for a lock another transaction held
    (a locked table, rows being changed) and was cancelled; retrying may succeed."""


def statement_fault(
    exc: BaseException, settings: Mapping[str, str]
) -> DatabaseUnavailable | StatementTimeout | None:
    """What `exc`, raised by a statement on a connection run with `settings` (their
    timeouts, in ms, name the limit passed), means as pinql's exception; None when it is no
    fault of the database's (raised as it is)."""
    if isinstance(exc, pg.LockNotAvailableError):
        limit = named_limit("lock_timeout", settings)
        return LockTimeout(
            f"the statement waited longer than {limit} for a lock another transaction holds, "
            "and was cancelled: retry"
        )
    if isinstance(exc, pg.QueryCanceledError):
        if "statement timeout" not in exc.args[0]:
            return StatementTimeout(f"PostgreSQL cancelled the statement: {exc.args[0]}")
        limit = named_limit("statement_timeout", settings)
        return StatementTimeout(f"the statement ran longer than {limit} and was cancelled")
    return connection_fault(exc)


def named_limit(name: str, settings: Mapping[str, str]) -> str:
    ms = settings.get(name)
    return f"{name} ({ms} ms)" if ms is not None else f"PostgreSQL's {name}"


def os_error_reason(exc: OSError) -> str:
    """What an OSError says, without the address asyncio puts in its message ("Connect call
    failed ('10.0.0.5', 5432)"): the system's words for its errno, lowercase."""
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror.lower()  # "name or service not known"
    if exc.errno is not None and exc.errno > 0:
        return os.strerror(exc.errno).lower()  # "connection refused"
    return type(exc).__name__


# PostgreSQL ended the session: shutdown, crash restart, dropped database, idle timeouts.
_SESSION_ENDED = (
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.DatabaseDroppedError,
    pg.IdleSessionTimeoutError,
    pg.IdleInTransactionSessionTimeoutError,
)


def connection_fault(exc: BaseException) -> DatabaseUnavailable | None:
    """What `exc`, raised while opening or using a connection, means as DatabaseUnavailable;
    None when it is no connection fault (a bad statement, a bad DSN: raised as they are)."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, ConnectionRefusedError):
        return DatabaseUnavailable("PostgreSQL refused the connection (is it running?)")
    if isinstance(exc, pg.InvalidAuthorizationSpecificationError | pg.InvalidCatalogNameError):
        return DatabaseLoginRefused(f"PostgreSQL refused the login: {exc.args[0]}")
    if isinstance(exc, pg.TooManyConnectionsError):
        return DatabaseUnavailable(f"PostgreSQL has no connection slot free: {exc.args[0]}")
    if isinstance(exc, pg.CannotConnectNowError):
        return DatabaseUnavailable(f"PostgreSQL is not accepting connections: {exc.args[0]}")
    if isinstance(exc, _SESSION_ENDED):
        return DatabaseUnavailable(f"PostgreSQL closed the connection: {exc.args[0]}")
    if isinstance(exc, pg.PostgresConnectionError):
        return DatabaseUnavailable(f"lost the connection to PostgreSQL: {exc.args[0]}")
    if isinstance(exc, OSError):
        return DatabaseUnavailable(f"the connection to PostgreSQL failed: {os_error_reason(exc)}")
    if type(exc) in (pg.InternalClientError, pg.ProtocolError):
        # The protocol is in a state it cannot leave (the server's goodbye raced a statement).
        return DatabaseUnavailable(f"the connection to PostgreSQL broke: {exc}")
    return None
