"""Bearer tokens: HS256 JWTs naming the viewer (`sub` = user id), with an expiry; `Viewers`
remembers the tokens it verified, so a client's token is verified once, not per request."""

from __future__ import annotations

import time

import jwt
from cachetools import LRUCache

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
    return _verified(_token(authorization), secret)[0] if authorization is not None else None


class Viewers:
    """`viewer_from_header` for one secret, remembering up to `size` verified tokens (their
    viewer and expiry): a remembered token is only checked against the clock. One per
    process (the app's lifespan); a forged or changed token is a different string, never
    found here."""

    def __init__(self, secret: str, size: int = 10_000) -> None:
        self.secret = secret
        self._verified: LRUCache[str, tuple[int, int]] = LRUCache(size)

    def from_header(self, authorization: str | None, now: float | None = None) -> int | None:
        """The viewer's user id from the header; None if absent. InvalidToken as
        `viewer_from_header`; an expired token is refused whether remembered or not."""
        if authorization is None:
            return None
        token = _token(authorization)
        known = self._verified.get(token)
        if known is not None:
            viewer, expires = known
            if expires > (time.time() if now is None else now):
                return viewer
            del self._verified[token]
            raise InvalidToken("bearer token has expired")
        viewer, expires = _verified(token, self.secret, now)
        self._verified[token] = (viewer, expires)
        return viewer


def _token(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization header must be 'Bearer <token>'")
    return token.strip()


def _verified(token: str, secret: str, now: float | None = None) -> tuple[int, int]:
    """The viewer a token names and its expiry (epoch seconds); InvalidToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # with `now`, the expiry is checked against it below instead of the clock
            options={"require": ["exp", "sub"], "verify_exp": now is None},
        )
        try:
            expires = int(claims["exp"])
        except (TypeError, ValueError):
            raise jwt.InvalidTokenError("exp must be an integer") from None
        if now is not None and expires <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
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
    return int(subject), expires
