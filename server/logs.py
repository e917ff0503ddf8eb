"""Logging for the whole process: every line carries the request id, and none holds a
secret (bearer tokens, JWTs, passwords, DSN passwords) or an e-mail address."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str | None] = ContextVar("pinql_request_id", default=None)
"""The id of the request being answered; the /graphql endpoint sets it."""

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

REDACTED = "[REDACTED]"
EMAIL = "[EMAIL]"

_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# What every rewrite below needs in the line (lowercased): most lines have none, and
# substring tests are ~10x cheaper than one case-insensitive regex scan.
_CLUES = ("@", "bearer", "eyj", "pass", "pwd", "token", "secret", "authorization", "api")
# `scheme://user:password@host`, and `redis://:password@host`.
_DSN_PASSWORD = re.compile(r"((?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@]*:)[^\s@/]+@")
# `Bearer <token>` wherever it appears, but not `bearer <word>` ("bearer token has expired").
_BEARER = re.compile(
    r"\b(Bearer)\s+(?!\[REDACTED\])(?!(?-i:[a-z]{1,20})(?:[\s\"',;.:!?)]|$))[^\s\"',;]+", re.I
)
# header.payload.signature, base64url; the signature is empty with `alg: none`.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
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


def redact(text: str) -> str:
    """`text` with secrets and e-mail addresses replaced."""
    lowered = text.lower()
    if not any(clue in lowered for clue in _CLUES):
        return text
    text = _DSN_PASSWORD.sub(rf"\1{REDACTED}@", text)
    text = _KEY_VALUE.sub(_key_value, text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _EMAIL.sub(EMAIL, text)


def new_request_id(incoming: str | None) -> str:
    """The incoming X-Request-Id when it is 1-64 chars of [A-Za-z0-9._-], else a new one."""
    if incoming is not None and _INCOMING_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


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


def configure(level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` of the process: pinql's and uvicorn's loggers, each
    line with its request id, redacted; access lines without query strings."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": f"{__name__}.RequestIdFilter"},
            "redact": {"()": f"{__name__}.RedactingFilter"},
            "access_path": {"()": f"{__name__}.AccessPathFilter"},
        },
        "formatters": {"default": {"format": FORMAT}},
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
                "filters": ["access_path", "request_id", "redact"],
            },
        },
        # Other libraries' warnings and errors (asyncpg, strawberry, ...) reach the root.
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "pinql": {"level": level},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            # Its TRACE lines hold whole ASGI scopes, query strings included: never shown.
            "uvicorn.asgi": {"level": "INFO"},
        },
    }
