"""Logging for the whole process: every line carries the request id, and none holds a
secret (bearer tokens, JWTs, passwords, DSN passwords) or an e-mail address.

Lines are text, or one JSON object each (PINQL_LOG_FORMAT=json): time, level, logger,
request_id, message, the record's extra fields, and `exception`/`stack` as redacted strings.
The /graphql endpoint writes one access line per request (logger `pinql.access`, its fields
as extras); uvicorn's own access line for /graphql would repeat it and is dropped, and
uvicorn's access lines for every other path are kept.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from server.settings import LogFormat

request_id: ContextVar[str | None] = ContextVar("pinql_request_id", default=None)
"""The id of the request being answered; the /graphql endpoint sets it."""

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
ACCESS = "pinql.access"
GRAPHQL_PATH = "/graphql"

REDACTED = "[REDACTED]"
EMAIL = "[EMAIL]"

_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# What every rewrite below needs in the line (lowercased): most lines have none, and
# substring tests are ~10x cheaper than one case-insensitive regex scan.
_CLUES = ("@", "bearer", "eyj", "pass", "pwd", "token", "secret", "authorization", "api", "pinql_")
# `scheme://user:password@host`, and `redis://:password@host`.
_DSN_PASSWORD = re.compile(r"((?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@]*:)[^\s@/]+@")
# `Bearer <token>` wherever it appears, but not `bearer <word>` ("bearer token has expired").
_BEARER = re.compile(
    r"\b(Bearer)\s+(?!\[REDACTED\])(?!(?-i:[a-z]{1,20})(?:[\s\"',;.:!?)]|$))[^\s\"',;]+", re.I
)
# header.payload.signature, base64url; the signature is empty with `alg: none`.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# A client key (server/client_keys.py), wherever it appears.
_CLIENT_KEY = re.compile(r"\bpinql_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
# The local part must not follow `//`: `postgresql://alice@db.host` names a user, not a mailbox.
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?<!//)[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{1,63}\b"
)
# A key naming a secret (`password`, `access_token`, `PINQL_SECRET`, ...; not `tokens` or
# `token_ttl_seconds`), quoted or not, then `:` or `=` (or `, ` in a repr'd header pair),
# then the value: quoted (JSON, repr), or bare up to a delimiter (text, query strings).
_SENSITIVE_NAME = r"[\w-]*?(?:password|passwd|pwd|token|secret|authorization|api[_-]?key)"
_KEY_VALUE = re.compile(
    rf"""(?<![\w-])(?P<head>(?-i:b(?=["']))?(?P<kq>\\?["']?){_SENSITIVE_NAME}(?![\w-])(?P=kq)"""
    r"""(?:\s*[:=]\s*|(?<=["']),\s*)(?-i:b(?=["']))?(?:(?:bearer|basic|token)\s+)?+)"""
    r"""(?!\[REDACTED\])"""
    r"""(?:(?P<dq>\\?")(?:\\.|[^"\\])*?(?P=dq)|'(?:\\.|[^'\\])*'|[^\s&,;"'<>(){}\[\]]+)""",
    re.I,
)


def _key_value(match: re.Match[str]) -> str:
    value = match.group(0)[len(match.group("head")) :]
    quote = value[0] if value[0] in "'\"" else ""
    if value.startswith('\\"'):
        quote = '\\"'
    return f"{match.group('head')}{quote}{REDACTED}{quote}"


def _has_clue(text: str) -> bool:
    lowered = text.lower()
    return any(clue in lowered for clue in _CLUES)


def redact(text: str) -> str:
    """`text` with secrets and e-mail addresses replaced."""
    if not _has_clue(text):
        return text
    text = _DSN_PASSWORD.sub(rf"\1{REDACTED}@", text)
    text = _KEY_VALUE.sub(_key_value, text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _CLIENT_KEY.sub(REDACTED, text)
    return _EMAIL.sub(EMAIL, text)


def new_request_id(incoming: str | None) -> str:
    """The incoming X-Request-Id when it is 1-64 chars of [A-Za-z0-9._-], else a new one:
    32 random hex digits (as `uuid4().hex` would be, without building a UUID: ~10 µs)."""
    if incoming is not None and _INCOMING_ID.fullmatch(incoming):
        return incoming
    return os.urandom(16).hex()


# What every LogRecord has; anything else on a record came in with `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
    "taskName",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a log call passed with `extra=`, in the order passed."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id` from the request being answered ("-" outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces the record's message, traceback and stack with their redacted text.

    The traceback is formatted here into `exc_text` and `exc_info` is dropped, so no
    formatter can render the unredacted exception again."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format call: its arguments may hold anything
            message = f"{record.msg} [unformattable arguments dropped]"
        record.msg = redact(message)
        record.args = ()
        record.__dict__.pop("color_message", None)  # uvicorn's coloured copy, unredacted
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        texts = {k: v for k, v in extra_fields(record).items() if isinstance(v, str)}
        if texts and _has_clue("\n".join(texts.values())):  # one look at them all: cheaper
            for key, value in texts.items():
                setattr(record, key, redact(value))
        return True


class AccessPathFilter(logging.Filter):
    """Drops the query string from the path of uvicorn's access-log line: a GET /graphql
    carries the query's variables (user data) there."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn logs '%s - "%s %s HTTP/%s" %d' % (client, method, path?query, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, query, _ = args[2].partition("?")
            if query:
                record.args = (args[0], args[1], path, args[3], args[4])
        return True


class GraphQLAccessFilter(logging.Filter):
    """Drops uvicorn's access line for /graphql: the endpoint's `pinql.access` line says more
    (a CORS preflight, answered before the endpoint, keeps uvicorn's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            method, path = args[1], args[2]
            if isinstance(path, str) and path.partition("?")[0] == GRAPHQL_PATH:
                return method == "OPTIONS"
        return True


class TextFormatter(logging.Formatter):
    """`FORMAT`, then the record's extra fields as ` key=value` (None as `-`)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line without its traceback."""
        line = super().formatMessage(record)
        extra = extra_fields(record)
        if not extra:
            return line
        return line + "".join(f" {k}={'-' if v is None else v}" for k, v in extra.items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, request_id, message,
    the extra fields, and `exception` / `stack` as strings."""

    def format(self, record: logging.LogRecord) -> str:
        """The line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info and not record.exc_text:  # no RedactingFilter on this handler
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line, default=str).decode()


def configure(level: str = "INFO", log_format: LogFormat | str = LogFormat.TEXT) -> dict[str, Any]:
    """The `logging.config.dictConfig` of the process: pinql's and uvicorn's loggers, each
    line with its request id, redacted, as text or JSON (`log_format`); access lines on
    stdout, without query strings, one per /graphql request (pinql's)."""
    level = level.upper()
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if LogFormat(log_format) is LogFormat.JSON
        else {"()": f"{__name__}.TextFormatter", "fmt": FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": f"{__name__}.RequestIdFilter"},
            "redact": {"()": f"{__name__}.RedactingFilter"},
            "access_path": {"()": f"{__name__}.AccessPathFilter"},
            "graphql_access": {"()": f"{__name__}.GraphQLAccessFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id", "redact"],
            },
            "access": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "default",
                # in this order: the path is cut while the access args are still a tuple
                "filters": ["graphql_access", "access_path", "request_id", "redact"],
            },
        },
        # Other libraries' warnings and errors (asyncpg, strawberry, ...) reach the root.
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "pinql": {"level": level},
            ACCESS: {"handlers": ["access"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            # Its TRACE lines hold whole ASGI scopes, query strings included: never shown.
            "uvicorn.asgi": {"level": "INFO"},
        },
    }
