"""Bearer tokens: HS256 JWTs naming the viewer (`sub` = user id), with an expiry."""

from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The Authorization header is malformed, or its token is forged, expired or unusable."""


def issue_token(user_id: int, secret: str, ttl_seconds: int, now: float | None = None) -> str:
    """A signed token naming `user_id`, valid for `ttl_seconds`."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def viewer_from_header(authorization: str | None, secret: str) -> int | None:
    """The viewer's user id from an `Authorization: Bearer <token>` header; None if absent."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization header must be 'Bearer <token>'")
    try:
        claims = jwt.decode(
            token.strip(), secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("bearer token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"bearer token is invalid: {exc}") from None
    subject = claims["sub"]
    if (
        not isinstance(subject, str)
        or not (subject.isascii() and subject.isdigit())
        or not 0 < int(subject) < 2**63
    ):
        raise InvalidToken("bearer token is invalid: sub must be a user id")
    return int(subject)
