"""Settings, read once from environment variables (documented in the README)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
