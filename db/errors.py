"""Database faults a request can meet, as pinql's own exceptions: the HTTP edge answers
`DatabaseUnavailable` with 503 SERVICE_UNAVAILABLE and `StatementTimeout` with its own code,
instead of masking them as internal errors."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached, a connection was lost, or no pool connection came free
    in time. The message says which, without connection details."""


class StatementTimeout(Exception):
    """A statement ran past PostgreSQL's statement_timeout and was cancelled."""
