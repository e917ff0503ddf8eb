"""Per-client persisted-query policy: which documents a client may run.

- `open`: any query text, and APQ.
- `apq`: persisted documents only (APQ or registered); plain query text is refused unless it
  is a registered document.
- `safelist`: registered documents only; anything else is PERSISTED_QUERY_NOT_IN_LIST.

`apq: false` turns APQ off for an `open` client (PERSISTED_QUERY_NOT_SUPPORTED);
`log_unknown: true` logs every operation that is not registered for the client, whether or
not the mode refuses it: switch it on first to see what safelisting would refuse.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

CLIENT_NAME = re.compile(r"[a-z0-9._-]{1,32}")
CLIENT_VERSION = re.compile(r"[A-Za-z0-9._+-]{1,64}")
DOCUMENT_ID = re.compile(r"[A-Za-z0-9_:.-]{1,128}")
ANONYMOUS = "anonymous"


class Mode(StrEnum):
    """What a client may send."""

    OPEN = "open"
    APQ = "apq"
    SAFELIST = "safelist"


class ClientPolicy(BaseModel):
    """One client's policy; a bare mode string (`"safelist"`) is accepted as shorthand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = Mode.OPEN
    apq: bool = True
    log_unknown: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> ClientPolicy:
        if self.mode is Mode.APQ and not self.apq:
            raise ValueError("mode 'apq' needs apq: true (use 'safelist' for registered only)")
        return self

    @property
    def apq_enabled(self) -> bool:
        """Whether APQ documents may be stored and run."""
        return self.apq and self.mode is not Mode.SAFELIST


def check_client_name(name: str) -> str:
    """`name` when it is a valid client name, else ValueError naming the rule and value."""
    if not CLIENT_NAME.fullmatch(name):
        raise ValueError(f"client name must match [a-z0-9._-]{{1,32}}, got {name!r}")
    return name


def check_client_version(version: str) -> str:
    """`version` when it is a valid client version, else ValueError."""
    if not CLIENT_VERSION.fullmatch(version):
        raise ValueError(f"client version must match [A-Za-z0-9._+-]{{1,64}}, got {version!r}")
    return version


def check_document_id(document_id: str) -> str:
    """`document_id` when it is a valid persisted document id, else ValueError."""
    if not DOCUMENT_ID.fullmatch(document_id):
        raise ValueError(f"document id must match [A-Za-z0-9_:.-]{{1,128}}, got {document_id!r}")
    return document_id
