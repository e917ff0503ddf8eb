"""Settings pinql no longer reads: each is refused when set, with where its job went, so a
deployment that still sets one learns of the change at start, not from a surprise later."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from server.database_settings import SETTINGS_CONFIG

REMOVED = {
    "PINQL_PQ_CACHE_SIZE": "the documents a worker keeps are bounded by what they weigh, "
    "PINQL_DOCUMENT_CACHE_MB (default 64)",
    "PINQL_PQ_DEFAULT_POLICY": "named clients are registered with `pinql clients add NAME "
    "--policy ...`; PINQL_ANONYMOUS_POLICY is the policy of requests that name none",
    "PINQL_PQ_CLIENT_POLICIES": "register each client with `pinql clients add NAME --policy "
    "open|apq|safelist` (it prints the client's key)",
}
"""Each removed variable, and what replaced it."""


class RemovedSettings(BaseSettings):
    """The removed variables, read only to be refused (server/settings.py's Settings
    includes them)."""

    model_config = SETTINGS_CONFIG

    pq_cache_size: str | None = Field(default=None, validation_alias="PINQL_PQ_CACHE_SIZE")
    pq_default_policy: str | None = Field(default=None, validation_alias="PINQL_PQ_DEFAULT_POLICY")
    pq_client_policies: str | None = Field(
        default=None, validation_alias="PINQL_PQ_CLIENT_POLICIES"
    )

    @model_validator(mode="after")
    def _refuse(self) -> RemovedSettings:
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is not None and field.validation_alias in REMOVED:
                variable = field.validation_alias
                raise ValueError(f"{variable} ({value}) is gone: {REMOVED[variable]}")
        return self
