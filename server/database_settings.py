"""The PostgreSQL part of pinql's settings (server/settings.py's Settings extends it): where the
database and its read replica are, the pool's sizes, and its connections' timeouts."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCK_TIMEOUT_MS = 1000
"""The default lock_timeout: a statement waiting on a lock gives up after a second, so one
locked table cannot hold every pool connection for the statement timeout."""


SETTINGS_CONFIG = SettingsConfigDict(
    frozen=True, extra="ignore", populate_by_name=True, env_ignore_empty=True
)
"""How every part of pinql's settings is read: frozen, by name or variable, and an empty
variable (`DATABASE_URL=`) counts as unset: never a URL, a secret or a name."""


class DatabaseSettings(BaseSettings):
    """PostgreSQL settings, read from environment variables (documented in the README)."""

    model_config = SETTINGS_CONFIG

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; unset: an embedded PostgreSQL under PINQL_DATA_DIR.",
    )
    db_pool_min: int = Field(default=2, ge=0, le=1000, validation_alias="PINQL_DB_POOL_MIN")
    db_pool_max: int = Field(default=10, ge=1, le=1000, validation_alias="PINQL_DB_POOL_MAX")
    statement_timeout_ms: int = Field(
        default=5000,
        ge=1,
        le=3_600_000,
        validation_alias="PINQL_STATEMENT_TIMEOUT_MS",
        description="PostgreSQL statement_timeout of pinql's pool connections.",
    )
    lock_timeout_ms: int = Field(
        default=LOCK_TIMEOUT_MS,
        ge=0,
        le=3_600_000,
        validation_alias="PINQL_LOCK_TIMEOUT_MS",
        description="PostgreSQL lock_timeout of pinql's pool connections: how long a statement "
        "waits for a lock another transaction holds (below PINQL_STATEMENT_TIMEOUT_MS; 0: "
        "no limit but the statement's; unset: 1000, or half the statement timeout when that "
        "is 2000 or less).",
    )
    db_connect_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=600,
        validation_alias="PINQL_DB_CONNECT_TIMEOUT_SECONDS",
        description="Longest wait for a new PostgreSQL connection; past it: 503.",
    )
    db_acquire_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        validation_alias="PINQL_DB_ACQUIRE_TIMEOUT_SECONDS",
        description="Longest wait for a free pool connection; past it: 503.",
    )
    database_replica_url: str | None = Field(
        default=None,
        validation_alias="PINQL_DATABASE_REPLICA_URL",
        description="PostgreSQL read replica for queries (mutations use DATABASE_URL).",
    )

    @model_validator(mode="after")
    def _check_database(self) -> DatabaseSettings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError(
                f"PINQL_DB_POOL_MIN ({self.db_pool_min}) must not exceed "
                f"PINQL_DB_POOL_MAX ({self.db_pool_max})"
            )
        if "lock_timeout_ms" in self.model_fields_set and (
            self.lock_timeout_ms >= self.statement_timeout_ms > 0
        ):
            raise ValueError(
                f"PINQL_LOCK_TIMEOUT_MS ({self.lock_timeout_ms}) must be below "
                f"PINQL_STATEMENT_TIMEOUT_MS ({self.statement_timeout_ms}): a statement waiting "
                "on a lock must give up before the statement's own limit"
            )
        return self

    @property
    def pool_lock_timeout_ms(self) -> int:
        """The lock_timeout pool connections run with: PINQL_LOCK_TIMEOUT_MS when set (below
        the statement timeout, checked), else the default, at most half the statement
        timeout (a statement waiting on a lock gives up well before its own limit)."""
        if "lock_timeout_ms" in self.model_fields_set:
            return self.lock_timeout_ms
        return max(1, min(self.lock_timeout_ms, self.statement_timeout_ms // 2))
