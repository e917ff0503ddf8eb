"""Cost-based rate limiting: a leaky bucket per client and viewer (or address), as in Shopify's
calculated query cost. A bucket holds up to `maximum` points and regains `restore_rate` points
a second; a request takes its requested cost up front or is refused (nothing taken), and after
execution pays what its response held: it gets back what it requested but did not use, or
pays the excess when the response held more (the bucket may then go below zero).

Buckets live in Redis, one hash per key changed by one Lua script on Redis's clock, so every
worker and host shares them; without REDIS_URL they live in this process. When Redis does not
answer, requests are served unthrottled (or refused, with fail_open off).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis

from server.redis_link import Breaker, connect

log = logging.getLogger("pinql.rate_limit")

LOCAL_MAX_BUCKETS = 100_000
# A bucket left alone this long is full whatever its restore rate (bounds the TTL of a key).
LONGEST_TTL_MS = 30 * 24 * 3600 * 1000

# Takes ARGV[3] points (negative: gives them back) from the bucket KEYS[1], a hash
# {points, at, token} (at: Redis TIME in microseconds; no hash: a full bucket) after refilling
# it at ARGV[2] points a second up to ARGV[1]; a cost above what it holds takes nothing, unless
# ARGV[5] is '1' (forced: the bucket may go below zero, a debt it refills from). A full
# bucket is deleted; any other expires when it would be full (at most ARGV[4] ms).
# ARGV[6] is the call's token: a call sent again (its reply was lost, and the client retried)
# finds its token as the bucket's last and takes nothing twice.
# Returns {1 if taken else 0, the points it holds now as %.17g text}. Mirrors `take_points`.
TAKE = """
local maximum = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local held = redis.call('HMGET', KEYS[1], 'points', 'at', 'token')
if held[3] == ARGV[6] then
  return {1, held[1]}
end
local points = maximum
if held[1] then
  local elapsed = math.max(0, now - tonumber(held[2]))
  points = math.min(maximum, tonumber(held[1]) + elapsed * rate / 1000000)
end
if cost > points and ARGV[5] ~= '1' then
  return {0, string.format('%.17g', points)}
end
points = math.min(maximum, points - cost)
if points >= maximum then
  redis.call('DEL', KEYS[1])
else
  local ttl = math.min(tonumber(ARGV[4]), math.ceil((maximum - points) / rate * 1000))
  redis.call('HSET', KEYS[1], 'points', string.format('%.17g', points),
    'at', string.format('%.17g', now), 'token', ARGV[6])
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
end
return {1, string.format('%.17g', points)}
"""


class RateLimitUnavailable(Exception):
    """Redis did not answer: buckets cannot be checked now."""


@dataclass(frozen=True, slots=True)
class Throttle:
    """The outcome of one take, in the terms of Shopify's `throttleStatus`."""

    allowed: bool
    maximum: int  # maximumAvailable
    available: int  # currentlyAvailable after this take, floored
    restore_rate: float  # restoreRate, points a second
    retry_after: float  # seconds until the cost fits when refused (inf: it never will); else 0
    reset_after: float  # seconds until the bucket is full again
    degraded: bool = False  # Redis was unreachable and the limiter let the request through

    def headers(self) -> dict[str, str]:
        """x-ratelimit-limit, -remaining, -reset (seconds until full), and Retry-After when
        refused (omitted when the cost exceeds the maximum: no wait makes it fit)."""
        headers = {
            "x-ratelimit-limit": str(self.maximum),
            "x-ratelimit-remaining": str(self.available),
            "x-ratelimit-reset": str(math.ceil(self.reset_after)),
        }
        if not self.allowed and math.isfinite(self.retry_after):
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


@dataclass(frozen=True, slots=True)
class Taken:
    """What a bucket store answered: whether the cost was taken, and the points left."""

    allowed: bool
    points: float


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket as last written: its points at `at_us` (microseconds), and how long it then
    needed to be full."""

    points: float
    at_us: int
    seconds_to_full: float


def take_points(
    held: Bucket | None,
    now_us: int,
    cost: float,
    maximum: int,
    restore_rate: float,
    force: bool = False,
) -> tuple[bool, float]:
    """The TAKE script's arithmetic: (taken, points now) for a bucket last `held`."""
    points = float(maximum)
    if held is not None:
        elapsed = max(0, now_us - held.at_us)
        points = float(min(maximum, held.points + elapsed * restore_rate / 1000000))
    if cost > points and not force:
        return False, points
    return True, float(min(maximum, points - cost))


def ttl_ms(points: float, maximum: int, restore_rate: float) -> int:
    """How long a bucket holding `points` takes to be full, in ms (the TAKE script's PEXPIRE)."""
    return min(LONGEST_TTL_MS, math.ceil((maximum - points) / restore_rate * 1000))


def bucket_key(viewer_id: int | None, address: str | None) -> str:
    """The bucket of a signed-in viewer, or of an anonymous address (IPv6: its /64, which one
    host can hop across at will). Never of the client's name: that is a header anyone can
    set, and a new name must not be a new bucket."""
    if viewer_id is not None:
        return f"rl:v:{viewer_id}"
    return f"rl:a:{_network(address)}"


def _network(address: str | None) -> str:
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"
    return str(ip)


class BucketStore(Protocol):
    """Leaky buckets by key; each call refills, then takes, atomically."""

    async def take(
        self, key: str, cost: float, maximum: int, restore_rate: float, force: bool = False
    ) -> Taken:
        """Takes `cost` points (negative: gives them back, up to `maximum`) if the bucket
        holds them, or whatever it holds when `force`d (it may go below zero);
        RateLimitUnavailable when the store does not answer."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


class RedisBuckets:
    """Buckets in Redis, on Redis's clock. After a failure it answers RateLimitUnavailable at
    once for RETRY_AFTER_SECONDS (no request waits on a dead server), then tries again."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._take = redis.register_script(TAKE)
        self.breaker = Breaker(log, "rate limits are not checked", RateLimitUnavailable)

    @classmethod
    def from_url(cls, url: str) -> RedisBuckets:
        """Buckets on a client with short timeouts and one immediate retry."""
        return cls(connect(url))

    async def take(
        self, key: str, cost: float, maximum: int, restore_rate: float, force: bool = False
    ) -> Taken:
        """One EVALSHA of TAKE (loaded again if Redis lost it), with a token of its own: the
        client's one retry of a call whose reply was lost takes nothing twice."""
        token = secrets.token_hex(8)
        with self.breaker.guard():
            allowed, points = await self._take(
                keys=[key], args=[maximum, restore_rate, cost, LONGEST_TTL_MS, int(force), token]
            )
        return Taken(allowed == 1, float(points))

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.aclose()


class LocalBuckets:
    """Buckets in this process (bounded: the least recently used go first, and a bucket is
    dropped once it would be full), for running without Redis. `take` never awaits, so it is
    atomic on the event loop."""

    def __init__(self, max_buckets: int = LOCAL_MAX_BUCKETS) -> None:
        self.buckets: TLRUCache[str, Bucket] = TLRUCache(
            max_buckets, ttu=lambda _key, bucket, now: now + bucket.seconds_to_full
        )

    async def take(
        self, key: str, cost: float, maximum: int, restore_rate: float, force: bool = False
    ) -> Taken:
        """TAKE's arithmetic on time.monotonic."""
        now_us = time.monotonic_ns() // 1000
        held = self.buckets.get(key)
        allowed, points = take_points(held, now_us, cost, maximum, restore_rate, force)
        if allowed:
            if points >= maximum:
                self.buckets.pop(key, None)
            else:
                seconds = ttl_ms(points, maximum, restore_rate) / 1000
                self.buckets[key] = Bucket(points, now_us, seconds)
        return Taken(allowed, points)

    async def close(self) -> None:
        """Nothing to release."""


class RateLimiter:
    """Takes each request's requested cost from its bucket, refunds what it did not use."""

    def __init__(
        self,
        buckets: BucketStore,
        *,
        maximum: int,
        restore_rate: float,
        fail_open: bool,
        log_interval: float = 60.0,
    ) -> None:
        if maximum < 1:
            raise ValueError(f"maximum must be at least 1, got {maximum}")
        if not restore_rate > 0:
            raise ValueError(f"restore_rate must be above 0, got {restore_rate}")
        self.buckets = buckets
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.fail_open = fail_open
        self.log_interval = log_interval
        self._outage_line_at: float | None = None  # when the last outage line was logged
        self._unchecked = 0  # requests not checked since that line

    async def take(self, key: str, cost: int) -> Throttle:
        """Takes `cost` from the bucket `key`, or refuses it and says when it will fit.
        Redis unreachable: a degraded pass, or RateLimitUnavailable without fail_open."""
        if cost < 0:
            raise ValueError(f"cost must be at least 0, got {cost}")
        try:
            taken = await self.buckets.take(key, cost, self.maximum, self.restore_rate)
        except RateLimitUnavailable:
            self._count_unchecked()
            if not self.fail_open:
                raise
            return Throttle(
                allowed=True,
                maximum=self.maximum,
                available=self.maximum,
                restore_rate=self.restore_rate,
                retry_after=0.0,
                reset_after=0.0,
                degraded=True,
            )
        self._end_outage()
        if taken.allowed:
            retry_after = 0.0
        elif cost > self.maximum:
            retry_after = math.inf
        else:
            retry_after = (cost - taken.points) / self.restore_rate
        return Throttle(
            allowed=taken.allowed,
            maximum=self.maximum,
            available=max(0, math.floor(taken.points)),
            restore_rate=self.restore_rate,
            retry_after=retry_after,
            reset_after=(self.maximum - taken.points) / self.restore_rate,
        )

    async def settle(self, key: str, points: int) -> None:
        """Takes `points` more from the bucket `key` whatever it holds (a response that held
        more objects than requested: the bucket may go below zero, and refills from there),
        or gives `-points` back (what was requested and not used; never above the maximum).
        A Redis failure is logged by the breaker and otherwise ignored."""
        if points == 0:
            return
        with suppress(RateLimitUnavailable):
            await self.buckets.take(key, points, self.maximum, self.restore_rate, force=True)

    async def close(self) -> None:
        """Closes the bucket store."""
        await self.buckets.close()

    @property
    def _outcome(self) -> str:
        return "served unthrottled" if self.fail_open else "refused"

    def _count_unchecked(self) -> None:
        """Counts a request the outage kept from being checked; one line per log_interval
        (the breaker logged the outage's start)."""
        now = time.monotonic()
        if self._outage_line_at is None:
            self._outage_line_at = now
        self._unchecked += 1
        if now - self._outage_line_at >= self.log_interval:
            log.warning(
                "Redis is unreachable: %d requests were %s in the last %.1f s",
                self._unchecked,
                self._outcome,
                now - self._outage_line_at,
            )
            self._outage_line_at = now
            self._unchecked = 0

    def _end_outage(self) -> None:
        if self._outage_line_at is None:
            return
        if self._unchecked:
            log.warning(
                "%d more requests were %s before Redis answered again",
                self._unchecked,
                self._outcome,
            )
        self._outage_line_at = None
        self._unchecked = 0
