"""Settings, read once from environment variables (documented in the README)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.persisted.policy import ClientPolicy, check_client_name

DEV_SECRET = "pinql-dev-secret-do-not-use-in-production"  # noqa: S105 (refused in prod)


class Env(StrEnum):
    """Where pinql runs: `dev` has conveniences that `prod` refuses."""

    DEV = "dev"
    PROD = "prod"


class Settings(BaseSettings):
    """pinql's configuration. Every field has a default that works for development."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; unset: an embedded PostgreSQL under PINQL_DATA_DIR.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias="REDIS_URL",
        description="Redis URL for shared caches; unset: in-process caches only.",
    )
    secret: str = Field(
        default=DEV_SECRET,
        validation_alias="PINQL_SECRET",
        description="HS256 key signing bearer tokens; required (32+ chars) in prod.",
    )
    env: Env = Field(default=Env.DEV, validation_alias="PINQL_ENV", description="dev or prod.")
    data_dir: str = Field(
        default=".data",
        validation_alias="PINQL_DATA_DIR",
        description="Where the embedded PostgreSQL keeps its files.",
    )
    demo_scale: float = Field(
        default=1.0,
        gt=0,
        le=100,
        validation_alias="PINQL_DEMO_SCALE",
        description="Size of the demo data `pinql serve` loads into an empty embedded database.",
    )
    db_pool_min: int = Field(default=2, ge=0, le=1000, validation_alias="PINQL_DB_POOL_MIN")
    db_pool_max: int = Field(default=10, ge=1, le=1000, validation_alias="PINQL_DB_POOL_MAX")
    token_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=60,
        validation_alias="PINQL_TOKEN_TTL_SECONDS",
        description="Lifetime of tokens made by `pinql token`.",
    )

    pq_default_policy: Annotated[ClientPolicy, NoDecode] = Field(
        default=ClientPolicy(),
        validation_alias="PINQL_PQ_DEFAULT_POLICY",
        description="Persisted-query policy of clients not named in PINQL_PQ_CLIENT_POLICIES: "
        'open, apq or safelist, or JSON {"mode": ..., "apq": ..., "log_unknown": ...}.',
    )
    pq_client_policies: Annotated[dict[str, ClientPolicy], NoDecode] = Field(
        default_factory=dict,
        validation_alias="PINQL_PQ_CLIENT_POLICIES",
        description='Per-client policies, JSON: {"web": "safelist", "ios": {"mode": "apq"}}.',
    )
    apq_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        validation_alias="PINQL_APQ_TTL_SECONDS",
        description="How long an APQ document stays stored after it was last sent in full.",
    )
    pq_cache_size: int = Field(
        default=5000,
        ge=1,
        le=1_000_000,
        validation_alias="PINQL_PQ_CACHE_SIZE",
        description="Persisted documents each worker keeps parsed and validated in memory.",
    )

    idempotency_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        validation_alias="PINQL_IDEMPOTENCY_TTL_SECONDS",
        description="How long the response to a mutation sent with Idempotency-Key is kept.",
    )

    get_max_age: int = Field(
        default=0,
        ge=0,
        validation_alias="PINQL_GET_MAX_AGE",
        description="Cache-Control max-age of anonymous, error-free GET responses (0: no-store).",
    )

    gc_tuning: bool = Field(
        default=True,
        validation_alias="PINQL_GC_TUNING",
        description="Freeze startup objects and raise the GC thresholds (server/runtime.py).",
    )

    @field_validator("pq_default_policy", mode="before")
    @classmethod
    def _policy_json(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            return json.loads(value)
        return value

    @field_validator("pq_client_policies", mode="before")
    @classmethod
    def _policies_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if isinstance(value, dict):
            for name in value:
                check_client_name(name)
        return value

    def policy_for(self, client: str) -> ClientPolicy:
        """The persisted-query policy of `client`."""
        return self.pq_client_policies.get(client, self.pq_default_policy)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError(
                f"PINQL_DB_POOL_MIN ({self.db_pool_min}) must not exceed "
                f"PINQL_DB_POOL_MAX ({self.db_pool_max})"
            )
        if self.env is Env.PROD and (self.secret == DEV_SECRET or len(self.secret) < 32):
            raise ValueError(
                "PINQL_SECRET must be set to a random string of 32+ characters in prod"
            )
        return self
