"""Unexpected errors reach the client as `Internal server error`; the details go to the log."""

from __future__ import annotations

import logging

import pytest

from loaders.users import UserByIdLoader
from tests.support import GraphQLClient


async def test_an_unexpected_error_is_masked_and_logged(
    world_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: UserByIdLoader, keys: list[int], rows: object) -> list[object]:
        raise RuntimeError("connection to 10.1.2.3 failed: password for pinql_admin wrong")

    monkeypatch.setattr(UserByIdLoader, "values", broken)  # on either path
    with caplog.at_level(logging.ERROR):
        response = await world_client.post("{ pins(first: 1) { nodes { title creator { id } } } }")
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["X-Request-Id"],
    }
    assert error["path"] == ["pins", "nodes", 0, "creator"]
    assert "pinql_admin" not in str(body)
    assert "pinql_admin" in caplog.text  # the traceback is logged for operators


async def test_expected_errors_keep_their_message_and_are_not_logged(
    world_client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = await world_client.execute("{ pins(first: 0) { totalCount } }")
    assert body["errors"][0]["message"] == "first must be between 1 and 100, got 0"
    assert caplog.text == ""


async def test_validation_errors_keep_their_message(world_client: GraphQLClient) -> None:
    body = await world_client.execute("{ pins { nope } }")
    assert "Cannot query field 'nope' on type 'PinConnection'." in body["errors"][0]["message"]
