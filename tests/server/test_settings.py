"""Settings read from the environment: persisted-query policies, and their clear refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.persisted.policy import ClientPolicy, Mode
from server.settings import Env, Settings


def settings(**env: str) -> Settings:
    """Settings from these variables only (on top of the process environment)."""
    return Settings.model_validate(env)


def test_the_anonymous_policy_is_open_in_dev_and_safelist_in_prod() -> None:
    assert settings().anonymous_client_policy == ClientPolicy(mode=Mode.OPEN, apq=True)
    prod = settings(PINQL_ENV="prod", PINQL_SECRET="x" * 32)
    assert prod.anonymous_client_policy.mode is Mode.SAFELIST
    assert prod.anonymous_client_policy.apq_enabled is False
    assert settings(PINQL_ANONYMOUS_POLICY="apq").anonymous_client_policy.mode is Mode.APQ
    logged = settings(PINQL_ANONYMOUS_POLICY='{"mode": "open", "log_unknown": 1}')
    assert logged.anonymous_client_policy == ClientPolicy(mode=Mode.OPEN, log_unknown=True)
    no_apq = settings(PINQL_ENV="prod", PINQL_SECRET="x" * 32, PINQL_ANONYMOUS_POLICY="open")
    assert no_apq.anonymous_client_policy.mode is Mode.OPEN


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PINQL_ANONYMOUS_POLICY": "closed"}, "Input should be 'open', 'apq' or 'safelist'"),
        ({"PINQL_ANONYMOUS_POLICY": '{"mode": "open", "nope": 1}'}, "nope"),
        (
            {"PINQL_ANONYMOUS_POLICY": '{"mode": "apq", "apq": false}'},
            "mode 'apq' needs apq: true",
        ),
        (
            {"PINQL_PQ_CLIENT_POLICIES": '{"web": "safelist"}'},
            'PINQL_PQ_CLIENT_POLICIES ({"web": "safelist"}) is gone: register each client '
            "with `pinql clients add NAME",
        ),
        (
            {"PINQL_PQ_DEFAULT_POLICY": "apq"},
            "PINQL_PQ_DEFAULT_POLICY (apq) is gone: named clients are registered",
        ),
        ({"PINQL_APQ_TTL_SECONDS": "0"}, "PINQL_APQ_TTL_SECONDS"),
        ({"PINQL_GET_MAX_AGE": "-1"}, "PINQL_GET_MAX_AGE"),
        ({"PINQL_PQ_CACHE_SIZE": "5000"}, "PINQL_PQ_CACHE_SIZE (5000) is gone"),
        ({"PINQL_DOCUMENT_CACHE_MB": "0"}, "PINQL_DOCUMENT_CACHE_MB"),
    ],
)
def test_bad_policies_name_the_variable_and_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        settings(**env)
    assert message in str(error.value)


def test_the_lock_timeout_stays_below_the_statement_timeout() -> None:
    def settings(**env: int) -> Settings:
        return Settings.model_validate({"DATABASE_URL": "unused", **env})

    assert settings().pool_lock_timeout_ms == 1000
    assert settings(PINQL_STATEMENT_TIMEOUT_MS=200).pool_lock_timeout_ms == 100  # half
    assert settings(PINQL_LOCK_TIMEOUT_MS=300).pool_lock_timeout_ms == 300
    assert settings(PINQL_LOCK_TIMEOUT_MS=0).pool_lock_timeout_ms == 0  # PostgreSQL: no limit
    with pytest.raises(ValidationError) as error:
        settings(PINQL_LOCK_TIMEOUT_MS=5000)
    assert "PINQL_LOCK_TIMEOUT_MS (5000) must be below PINQL_STATEMENT_TIMEOUT_MS (5000)" in str(
        error.value
    )


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "PINQL_ENV", "PINQL_PQ_CLIENT_POLICIES"):
        monkeypatch.setenv(name, "")
    config = Settings()
    assert (config.database_url, config.redis_url, config.env) == (None, None, Env.DEV)
