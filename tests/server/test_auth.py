"""Bearer tokens: a verified token is remembered with its viewer until it expires; anything
else is verified, and refused, as before."""

from __future__ import annotations

import time

import pytest

from server.auth import InvalidToken, Viewers, issue_token, viewer_from_header

SECRET = "a-secret-of-at-least-thirty-two-characters"
NOW = time.time() - 3600  # tokens issued in the future are refused (iat)


def test_a_remembered_token_names_its_viewer_until_it_expires() -> None:
    viewers = Viewers(SECRET)
    header = f"Bearer {issue_token(42, SECRET, 60, now=NOW)}"

    assert viewers.from_header(header, now=NOW) == 42
    assert viewers.from_header(header, now=NOW + 59) == 42  # remembered
    with pytest.raises(InvalidToken, match="expired"):
        viewers.from_header(header, now=NOW + 60)
    with pytest.raises(InvalidToken, match="expired"):  # and forgotten: verified again
        viewers.from_header(header, now=NOW + 61)


def test_an_expired_token_is_never_remembered() -> None:
    viewers = Viewers(SECRET)
    header = f"Bearer {issue_token(42, SECRET, 60, now=NOW)}"

    with pytest.raises(InvalidToken, match="expired"):
        viewers.from_header(header, now=NOW + 120)
    with pytest.raises(InvalidToken, match="expired"):
        viewers.from_header(header)  # the clock: long past too


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic abc", "must be 'Bearer <token>'"),
        ("Bearer ", "must be 'Bearer <token>'"),
        (f"Bearer {issue_token(42, 'another-secret-of-thirty-two-characters', 60)}", "invalid"),
        ("Bearer not.a.jwt", "invalid"),
    ],
)
def test_bad_tokens_are_refused_each_time_as_without_memory(header: str, message: str) -> None:
    viewers = Viewers(SECRET)
    for _ in range(2):
        with pytest.raises(InvalidToken, match=message):
            viewers.from_header(header)
        with pytest.raises(InvalidToken, match=message):
            viewer_from_header(header, SECRET)


def test_the_memory_keeps_the_most_recent_tokens() -> None:
    viewers = Viewers(SECRET, size=2)
    now = time.time()
    headers = [f"Bearer {issue_token(user, SECRET, 3600, now=now)}" for user in (1, 2, 3)]

    assert [viewers.from_header(h) for h in headers] == [1, 2, 3]
    assert [viewers.from_header(h) for h in reversed(headers)] == [3, 2, 1]
    assert viewers.from_header(None) is None
