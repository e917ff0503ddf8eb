"""Settings, read once from environment variables (documented in the README)."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from execution.budget import MAX_PLAN_NODES, MAX_PLAN_SECONDS, PLAN_CACHE_BYTES
from server.database_settings import DatabaseSettings
from server.persisted.policy import ClientPolicy, Mode, check_client_name
from server.persisted.queries import APQ_MAX_BYTES
from server.removed_settings import RemovedSettings
from server.search_settings import SearchSettings

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
DEV_SECRET = "pinql-dev-secret-do-not-use-in-production"  # noqa: S105 (refused in prod)
METRICS_PORT = 9464
"""/metrics' own port in prod (the Prometheus exporter port OpenTelemetry's uses)."""


class Env(StrEnum):
    """Where pinql runs: `dev` has conveniences that `prod` refuses."""

    DEV = "dev"
    PROD = "prod"


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


class Settings(DatabaseSettings, SearchSettings, RemovedSettings):
    """pinql's configuration. Every field has a default that works for development (its
    model_config, frozen and read by name or variable, comes from DatabaseSettings)."""

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
    token_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=60,
        validation_alias="PINQL_TOKEN_TTL_SECONDS",
        description="Lifetime of tokens made by `pinql token`.",
    )
    viewer_recheck_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        validation_alias="PINQL_VIEWER_RECHECK_SECONDS",
        description="How long a worker trusts that a signed-in viewer's user exists before "
        "reading it again: a deleted user's token is refused (401) within this time.",
    )

    anonymous_policy: Annotated[ClientPolicy | None, NoDecode] = Field(
        default=None,
        validation_alias="PINQL_ANONYMOUS_POLICY",
        description="Persisted-query policy of requests that name no client: open, apq or "
        'safelist, or JSON {"mode": ..., "apq": ..., "log_unknown": ...}; unset: safelist in '
        "prod, open in dev. Named clients are registered with `pinql clients add`.",
    )
    clients_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        validation_alias="PINQL_CLIENTS_REFRESH_SECONDS",
        description="How often each worker reads the registered clients again (added, "
        "rotated, removed clients take effect within this; an unknown name or key makes a "
        "read at once, at most once a second).",
    )
    apq_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        validation_alias="PINQL_APQ_TTL_SECONDS",
        description="How long an APQ document stays stored after it was last sent in full.",
    )
    apq_max_bytes: int = Field(
        default=APQ_MAX_BYTES,
        ge=1024,
        le=1024 * 1024,
        validation_alias="PINQL_APQ_MAX_BYTES",
        description="The largest document (UTF-8 bytes) APQ stores; a larger one is refused.",
    )
    document_cache_mb: int = Field(
        default=64,
        ge=1,
        le=65_536,
        validation_alias="PINQL_DOCUMENT_CACHE_MB",
        description="MiB the prepared (parsed, validated) documents each worker keeps may "
        "weigh (least recently used go first).",
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
        description=(
            "Freeze startup objects so full GC collections skip them, and collect young "
            "objects every 10,000 allocations (server/runtime.py)."
        ),
    )

    # Limits checked before execution (README, "Limits"); each refusal names its setting.
    max_depth: int = Field(
        default=15,
        ge=1,
        le=1000,
        validation_alias="PINQL_MAX_DEPTH",
        description="Deepest field nesting an operation may have (the root fields are depth 1).",
    )
    max_aliases: int = Field(
        default=30,
        ge=0,
        le=10_000,
        validation_alias="PINQL_MAX_ALIASES",
        description="Aliased fields a document may hold (fragments counted where spread).",
    )
    max_tokens: int = Field(
        default=2000,
        ge=100,
        le=1_000_000,
        validation_alias="PINQL_MAX_TOKENS",
        description="Lexical tokens a document may hold; parsing stops past it.",
    )
    max_root_fields: int = Field(
        default=20,
        ge=1,
        le=10_000,
        validation_alias="PINQL_MAX_ROOT_FIELDS",
        description="Fields selected at the root of one operation.",
    )
    max_directives_per_field: int = Field(
        default=4,
        ge=0,
        le=1000,
        validation_alias="PINQL_MAX_DIRECTIVES_PER_FIELD",
        description="Directives on one field, fragment spread or inline fragment.",
    )
    max_field_repeats: int = Field(
        default=10,
        ge=1,
        le=10_000,
        validation_alias="PINQL_MAX_FIELD_REPEATS",
        description="Times one response key may be selected in one selection set.",
    )
    max_body_bytes: int = Field(
        default=100 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        validation_alias="PINQL_MAX_BODY_BYTES",
        description="Bytes of a POST body, or of a GET query string.",
    )
    max_variables_bytes: int = Field(
        default=64 * 1024,
        ge=64,
        le=100 * 1024 * 1024,
        validation_alias="PINQL_MAX_VARIABLES_BYTES",
        description="Bytes of the JSON-encoded `variables`.",
    )
    max_query_cost: int = Field(
        default=25_000,
        ge=1,
        le=100_000_000,
        validation_alias="PINQL_MAX_QUERY_COST",
        description="Highest requested cost (objects a response may hold) of one operation.",
    )

    rate_limit: bool = Field(
        default=True,
        validation_alias="PINQL_RATE_LIMIT",
        description="Cost-based rate limiting per viewer (or address when anonymous).",
    )
    rate_limit_maximum: int = Field(
        default=50_000,
        ge=1,
        le=1_000_000_000,
        validation_alias="PINQL_RATE_LIMIT_MAXIMUM",
        description="Cost points a bucket holds when full (maximumAvailable).",
    )
    rate_limit_restore_rate: float = Field(
        default=2500.0,
        gt=0,
        le=1_000_000_000,
        validation_alias="PINQL_RATE_LIMIT_RESTORE_RATE",
        description="Cost points a bucket regains per second (restoreRate).",
    )
    rate_limit_fail_open: bool = Field(
        default=True,
        validation_alias="PINQL_RATE_LIMIT_FAIL_OPEN",
        description="When Redis is unreachable: true serves requests unthrottled, false: 503.",
    )

    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        validation_alias="PINQL_REQUEST_TIMEOUT_SECONDS",
        description="Deadline of one operation's execution; past it: 504 TIMEOUT.",
    )

    introspection: bool | None = Field(
        default=None,
        validation_alias="PINQL_INTROSPECTION",
        description="Schema introspection for every client; unset: on in dev, off in prod.",
    )
    introspection_clients: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        validation_alias="PINQL_INTROSPECTION_CLIENTS",
        description="Clients (comma-separated) allowed introspection when it is off.",
    )
    graphiql: bool | None = Field(
        default=None,
        validation_alias="PINQL_GRAPHIQL",
        description="Serve GraphiQL at /graphql to browsers; unset: on in dev, off in prod.",
    )
    cors_origins: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        validation_alias="PINQL_CORS_ORIGINS",
        description="Origins (comma-separated, or *) allowed cross-origin requests; "
        "unset: * in dev, none in prod.",
    )

    fast_path: bool = Field(
        default=True,
        validation_alias="PINQL_FAST_PATH",
        description="Run planned queries on the engine; false: every operation on "
        "graphql-core's executor.",
    )
    max_plan_nodes: int = Field(
        default=MAX_PLAN_NODES,
        ge=10,
        le=100_000,
        validation_alias="PINQL_MAX_PLAN_NODES",
        description="Plan nodes one document may make; a larger one runs on graphql-core.",
    )
    max_plan_ms: float = Field(
        default=MAX_PLAN_SECONDS * 1000,
        gt=0,
        le=60_000,
        validation_alias="PINQL_MAX_PLAN_MS",
        description="Milliseconds one document's planning may take; past it, the document "
        "runs on graphql-core.",
    )
    plan_cache_mb: int = Field(
        default=PLAN_CACHE_BYTES // 2**20,
        ge=1,
        le=65_536,
        validation_alias="PINQL_PLAN_CACHE_MB",
        description="MiB the plans each worker keeps may weigh (least recently used go first).",
    )
    metrics: bool = Field(
        default=True,
        validation_alias="PINQL_METRICS",
        description="Serve Prometheus metrics at /metrics.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65_535,
        validation_alias="PINQL_METRICS_PORT",
        description="The port /metrics listens on (all interfaces), away from the public "
        f"one; 0: the main port. Unset: 0 in dev, {METRICS_PORT} in prod.",
    )
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        validation_alias="PINQL_LOG_FORMAT",
        description="text, or json (one JSON object per line).",
    )
    otel: bool = Field(
        default=False,
        validation_alias="PINQL_OTEL",
        description="OpenTelemetry spans per request and SQL statement (the otel extra; the "
        "exporter reads the standard OTEL_EXPORTER_OTLP_* variables).",
    )

    @field_validator("introspection_clients", mode="before")
    @classmethod
    def _client_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [name.strip() for name in value.split(",") if name.strip()]
        for name in value:
            check_client_name(name)
        return frozenset(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = [origin.strip() for origin in value.split(",") if origin.strip()]
        for origin in value:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"PINQL_CORS_ORIGINS: {origin!r} is not an origin like https://example.com"
                )
        return tuple(value)

    @property
    def metrics_listen_port(self) -> int:
        """Where /metrics listens: its own port, or 0 for the main port."""
        if self.metrics_port is not None:
            return self.metrics_port
        return METRICS_PORT if self.env is Env.PROD else 0

    def introspection_allowed(self, client: str) -> bool:
        """Whether `client` may query __schema and __type."""
        enabled = self.introspection if self.introspection is not None else not self.is_prod
        return enabled or client in self.introspection_clients

    @property
    def graphiql_enabled(self) -> bool:
        """Whether browsers get GraphiQL at /graphql."""
        return self.graphiql if self.graphiql is not None else not self.is_prod

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """Origins CORS allows (`*`: any)."""
        if self.cors_origins is not None:
            return self.cors_origins
        return () if self.is_prod else ("*",)

    @property
    def is_prod(self) -> bool:
        """PINQL_ENV=prod."""
        return self.env is Env.PROD

    @field_validator("anonymous_policy", mode="before")
    @classmethod
    def _policy_json(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            return json.loads(value)
        return value

    @property
    def anonymous_client_policy(self) -> ClientPolicy:
        """The policy of requests that name no client."""
        if self.anonymous_policy is not None:
            return self.anonymous_policy
        return ClientPolicy(mode=Mode.SAFELIST) if self.is_prod else ClientPolicy()

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.rate_limit and self.max_query_cost > self.rate_limit_maximum:
            raise ValueError(
                f"PINQL_MAX_QUERY_COST ({self.max_query_cost}) must not exceed "
                f"PINQL_RATE_LIMIT_MAXIMUM ({self.rate_limit_maximum}): such an operation "
                "could never run"
            )
        if self.env is Env.PROD and (self.secret == DEV_SECRET or len(self.secret) < 32):
            raise ValueError(
                "PINQL_SECRET must be set to a random string of 32+ characters in prod"
            )
        return self
