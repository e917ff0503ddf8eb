"""Page arguments, cursors, global IDs: valid ones round-trip, anything else is BAD_USER_INPUT."""

from __future__ import annotations

import base64

import pytest

from loaders.paging import PageArgs
from resolvers.cursors import CURSORS_REMEMBERED, decode_cursor, encode_cursor, page_args
from resolvers.errors import BadUserInput
from resolvers.ids import (
    ENCODERS,
    GLOBAL_IDS_REMEMBERED,
    decode_global_id,
    decode_id_of,
    encode_global_id,
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_first_defaults_to_20_and_accepts_1_to_100() -> None:
    assert page_args(None, None) == PageArgs(20, None)
    assert page_args(1, None).first == 1
    assert page_args(100, None).first == 100


@pytest.mark.parametrize("first", [0, -1, 101, 500, 2**31 - 1])
def test_first_out_of_range_names_the_rule_and_value(first: int) -> None:
    with pytest.raises(BadUserInput) as error:
        page_args(first, None)
    assert error.value.message == f"first must be between 1 and 100, got {first}"
    assert error.value.extensions == {"code": "BAD_USER_INPUT", "argument": "first"}


@pytest.mark.parametrize("position", [1, 42, 2**63 - 1])
def test_cursors_round_trip(position: int) -> None:
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert page_args(5, cursor) == PageArgs(5, position)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage!",
        "x" * 65,
        _b64("cursor:"),
        _b64("cursor:abc"),
        _b64("cursor:0"),
        _b64("cursor:-5"),
        _b64("cursor:" + str(2**63)),
        _b64("cursor:007"),
        _b64("cursor:١٢"),  # non-ASCII digits
        _b64("Pin:5"),
        encode_cursor(5) + "=",
    ],
)
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadUserInput) as error:
        decode_cursor(cursor)
    assert error.value.message.startswith("after is not a valid cursor: ")
    assert error.value.extensions["argument"] == "after"


@pytest.mark.parametrize("type_name", ["User", "Board", "Pin", "Comment"])
def test_global_ids_round_trip(type_name: str) -> None:
    assert decode_global_id(encode_global_id(type_name, 123)) == (type_name, 123)


@pytest.mark.parametrize(
    "value",
    ["", "nope", _b64("Spaceship:1"), _b64("Pin:"), _b64("Pin:x"), _b64("Pin:0"), _b64("Pin:01")],
)
def test_malformed_global_ids_are_refused(value: str) -> None:
    with pytest.raises(BadUserInput, match="id is not a valid ID"):
        decode_global_id(value)


def test_a_global_id_of_the_wrong_type_names_both_types() -> None:
    with pytest.raises(BadUserInput, match="id must be a Pin ID, got a User ID"):
        decode_id_of("Pin", encode_global_id("User", 1))


def test_error_messages_cut_huge_values_short() -> None:
    with pytest.raises(BadUserInput) as error:
        decode_global_id("A" * 10_000)
    assert len(error.value.message) < 100


@pytest.mark.parametrize("position", [1, 42, 1234567, 2**63 - 1])
def test_cursors_and_global_ids_stay_unpadded_url_safe_base64(position: int) -> None:
    # Clients keep both: their encoding may never change.
    assert encode_cursor(position) == _b64(f"cursor:{position}")
    assert encode_global_id("Comment", position) == _b64(f"Comment:{position}")
    assert encode_global_id("Pin", 42) == "UGluOjQy"


def test_remembered_global_ids_and_cursors_are_bounded() -> None:
    for id in range(1, GLOBAL_IDS_REMEMBERED + 100):
        assert decode_global_id(encode_global_id("User", id)) == ("User", id)
    for position in range(1, CURSORS_REMEMBERED + 100):
        assert decode_cursor(encode_cursor(position)) == position

    assert ENCODERS["User"].cache_info().currsize == GLOBAL_IDS_REMEMBERED
    assert ENCODERS["User"].cache_info().maxsize == GLOBAL_IDS_REMEMBERED
    assert encode_cursor.cache_info().currsize == CURSORS_REMEMBERED
    assert encode_cursor.cache_info().maxsize == CURSORS_REMEMBERED
