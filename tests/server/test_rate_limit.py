"""Cost-based rate limiting against the real Redis (logical database 9, flushed once at the
start) and in-process: taking, refusing, refilling, refunds, headers, the Lua script and its
Python mirror agreeing to the bit, atomic takes from two workers, key expiry, bucket keys,
and Redis down (fail open, fail closed) and back.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.rate_limit import (
    LONGEST_TTL_MS,
    Bucket,
    BucketStore,
    LocalBuckets,
    RateLimiter,
    RateLimitUnavailable,
    RedisBuckets,
    Throttle,
    bucket_key,
    take_points,
    ttl_ms,
)
from server.redis_link import RETRY_AFTER_SECONDS
from tests.conftest import emptied_redis, redis_url
from tests.throwaway import ThrowawayRedis

REDIS_DB = 9
TINY_RATE = 1e-6  # a millionth of a point a second: no test runs long enough to regain one


def new_key() -> str:
    """A bucket key no test has used."""
    return bucket_key(int(secrets.token_hex(4), 16), None)


@pytest.fixture(scope="module")
async def redis() -> AsyncIterator[Redis]:
    """This module's Redis database, emptied first."""
    async with emptied_redis(REDIS_DB) as connection:
        yield connection


@pytest.fixture(params=["redis", "local"])
async def buckets(request: pytest.FixtureRequest, redis: Redis) -> AsyncIterator[BucketStore]:
    """Each store in turn: Redis database 9, then this process."""
    store: BucketStore
    if request.param == "redis":
        store = RedisBuckets.from_url(redis_url(REDIS_DB))
    else:
        store = LocalBuckets()
    yield store
    await store.close()


def limiter(
    buckets: BucketStore, maximum: int, restore_rate: float, *, fail_open: bool = True
) -> RateLimiter:
    """A limiter on `buckets`."""
    return RateLimiter(buckets, maximum=maximum, restore_rate=restore_rate, fail_open=fail_open)


# ---- arithmetic, in Redis and in-process -------------------------------------------------------


async def test_take_spends_the_cost_then_refuses(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 0.001)
    key = new_key()
    first = await rl.take(key, 30)
    assert (first.allowed, first.available, first.retry_after) == (True, 70, 0.0)
    assert (first.maximum, first.restore_rate, first.degraded) == (100, 0.001, False)
    assert (await rl.take(key, 70)).available == 0
    refused = await rl.take(key, 1)
    assert (refused.allowed, refused.available) == (False, 0)
    # 1 point at 0.001 a second: 1000 s, less what trickled in during the test.
    assert 990 < refused.retry_after <= 1000


async def test_a_refused_take_takes_nothing(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, TINY_RATE)
    key = new_key()
    await rl.take(key, 80)
    refused = await rl.take(key, 30)
    assert (refused.allowed, refused.available) == (False, 20)
    assert math.isclose(refused.retry_after, 10 / TINY_RATE, rel_tol=1e-3)
    assert (await rl.take(key, 20)).allowed


async def test_buckets_refill_at_the_restore_rate(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 50.0)
    key = new_key()
    assert (await rl.take(key, 100)).available == 0
    started = time.monotonic()
    await asyncio.sleep(0.2)
    after = await rl.take(key, 0)
    elapsed = time.monotonic() - started
    assert 10 <= after.available <= math.floor(50 * elapsed) + 1


async def test_a_refused_take_fits_after_its_retry_after(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 10.0)
    key = new_key()
    await rl.take(key, 100)
    refused = await rl.take(key, 5)
    assert not refused.allowed
    assert 0.4 < refused.retry_after <= 0.5
    await asyncio.sleep(refused.retry_after + 0.02)
    assert (await rl.take(key, 5)).allowed


async def test_refill_stops_at_the_maximum(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 1000.0)
    key = new_key()
    await rl.take(key, 10)
    await asyncio.sleep(0.1)  # long enough to regain 100
    full = await rl.take(key, 0)
    assert (full.available, full.reset_after) == (100, 0.0)


async def test_refunds_give_points_back_up_to_the_maximum(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, TINY_RATE)
    key = new_key()
    await rl.take(key, 60)
    await rl.settle(key, -50)
    assert (await rl.take(key, 0)).available == 90
    await rl.settle(key, -1000)
    assert (await rl.take(key, 0)).available == 100
    await rl.settle(key, 0)
    await rl.settle(new_key(), -10)  # a full bucket stays full
    assert (await rl.take(key, 100)).allowed


async def test_an_excess_is_taken_whatever_the_bucket_holds(buckets: BucketStore) -> None:
    """A response that held more than requested pays the rest: the bucket goes below zero,
    takes are refused until it has refilled past their cost, and refunds count from there."""
    rl = limiter(buckets, 100, 10.0)
    key = new_key()
    await rl.take(key, 90)
    await rl.settle(key, 40)  # 10 held, 40 more owed: -30
    refused = await rl.take(key, 5)
    assert (refused.allowed, refused.available) == (False, 0)
    assert 3.4 < refused.retry_after <= 3.5  # 35 points at 10 a second
    await rl.settle(key, -30)  # a refund into a debt: back to about 0
    refused = await rl.take(key, 5)
    assert not refused.allowed
    assert 0.4 < refused.retry_after <= 0.5


async def test_a_cost_above_the_maximum_is_refused_for_ever(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 10.0)
    key = new_key()
    refused = await rl.take(key, 101)
    assert (refused.allowed, refused.available, refused.retry_after) == (False, 100, math.inf)
    assert "Retry-After" not in refused.headers()
    assert (await rl.take(key, 100)).allowed, "the refused take took points"


async def test_negative_costs_are_an_error(buckets: BucketStore) -> None:
    with pytest.raises(ValueError, match="cost must be at least 0, got -1"):
        await limiter(buckets, 100, 1.0).take(new_key(), -1)


async def test_headers_of_takes(buckets: BucketStore) -> None:
    rl = limiter(buckets, 100, 1.0)
    key = new_key()
    taken = await rl.take(key, 100)
    assert taken.headers() == {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "100",
    }
    # Under a second passes: 5 points still need more than 4 s.
    refused = await rl.take(key, 5)
    assert refused.headers() == {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "100",
        "Retry-After": "5",
    }


def test_headers_round_up_and_retry_after_is_at_least_one_second() -> None:
    refused = Throttle(
        allowed=False,
        maximum=100,
        available=3,
        restore_rate=10.0,
        retry_after=0.05,
        reset_after=9.71,
    )
    assert refused.headers() == {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "3",
        "x-ratelimit-reset": "10",
        "Retry-After": "1",
    }
    allowed = Throttle(True, 100, 100, 10.0, 0.0, 0.0)
    assert "Retry-After" not in allowed.headers()


# ---- Redis specifics ----------------------------------------------------------------------------


async def test_the_script_and_its_python_mirror_agree_to_the_bit(redis: Redis) -> None:
    """Each Redis take is replayed through take_points from the state Redis held before it,
    at the clock Redis wrote: the points must be the same float."""
    store = RedisBuckets(redis)
    key = new_key()
    maximum, rate = 1000, 123.456789
    held: Bucket | None = None
    takes = [(7, False), (333, False), (-50, False), (1, False), (250, False)]
    takes += [(900, True), (99, True), (-3, True), (12, True)]  # forced: into a debt
    for cost, force in takes:
        taken = await store.take(key, cost, maximum, rate, force)
        assert taken.allowed
        state = await redis.hgetall(key)
        now_us = int(state["at"])
        assert take_points(held, now_us, cost, maximum, rate, force) == (True, taken.points)
        assert float(state["points"]) == taken.points
        held = Bucket(taken.points, now_us, 0.0)
        await asyncio.sleep(0.003)


async def test_two_workers_take_atomically(redis: Redis) -> None:
    """200 concurrent takes of 1 from a bucket of 50, through two connection pools."""
    # Patient clients: the point is atomicity, not the 0.5 s fail-fast timeouts, which 200
    # connections opening at once on a loaded 2-core machine can exceed (failing open).
    workers = [
        limiter(RedisBuckets(Redis.from_url(redis_url(REDIS_DB), socket_timeout=30)), 50, TINY_RATE)
        for _ in "ab"
    ]
    key = new_key()
    try:
        throttles = await asyncio.gather(*(workers[i % 2].take(key, 1) for i in range(200)))
    finally:
        for worker in workers:
            await worker.close()
    assert not any(throttle.degraded for throttle in throttles)
    assert sum(throttle.allowed for throttle in throttles) == 50
    assert sorted(t.available for t in throttles if t.allowed) == list(range(50))


async def test_keys_expire_when_the_bucket_would_be_full(redis: Redis) -> None:
    rl = limiter(RedisBuckets(redis), 100, 10.0)
    key = new_key()
    await rl.take(key, 30)
    assert set(await redis.hgetall(key)) == {"points", "at", "token"}  # token: the last call's
    assert 2900 < await redis.pttl(key) <= 3000  # 30 points at 10 a second
    await rl.settle(key, -30)
    assert not await redis.exists(key), "a full bucket is kept"
    await rl.take(key, 101)
    assert not await redis.exists(key), "a refused take wrote a bucket"

    slow = limiter(RedisBuckets(redis), 100, TINY_RATE)
    await slow.take(key, 100)  # 100 points at a millionth a second: longer than the cap
    assert LONGEST_TTL_MS - 1000 < await redis.pttl(key) <= LONGEST_TTL_MS


async def test_local_buckets_are_dropped_when_full_and_bounded() -> None:
    assert ttl_ms(70.0, 100, 10.0) == 3000
    assert ttl_ms(0.0, 100, TINY_RATE) == LONGEST_TTL_MS
    store = LocalBuckets(max_buckets=3)
    for n in range(5):
        await store.take(f"k{n}", 1, 100, 10.0)
    await store.take("k4", -1, 100, 10.0)
    assert set(store.buckets) == {"k2", "k3"}


# ---- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "address", "key"),
    [
        (42, "203.0.113.9", "rl:v:42"),
        (None, "203.0.113.9", "rl:a:203.0.113.9"),
        (None, None, "rl:a:unknown"),
        (None, "", "rl:a:unknown"),
        (None, "2001:DB8:1:2:3:4:5:6", "rl:a:2001:db8:1:2::/64"),
        (None, "2001:db8:1:2::ffff", "rl:a:2001:db8:1:2::/64"),
        (None, "::ffff:203.0.113.9", "rl:a:203.0.113.9"),
        (None, "testclient", "rl:a:testclient"),
    ],
)
def test_bucket_keys(viewer: int | None, address: str | None, key: str) -> None:
    assert bucket_key(viewer, address) == key


# ---- Redis down and back ------------------------------------------------------------------------


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The rate limiter's warnings so far."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "pinql.rate_limit" and record.levelno == logging.WARNING
    ]


async def test_redis_down_fails_open_and_recovers(
    throwaway_redis: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pinql.rate_limit")
    rl = RateLimiter(
        RedisBuckets.from_url(throwaway_redis.url),
        maximum=100,
        restore_rate=TINY_RATE,
        fail_open=True,
        log_interval=0.2,
    )
    key = new_key()
    try:
        assert (await rl.take(key, 40)).available == 60
        throwaway_redis.stop()

        first = await rl.take(key, 40)
        assert (first.allowed, first.degraded, first.available) == (True, True, 100)
        for _ in range(20):
            started = time.monotonic()
            throttle = await rl.take(key, 40)
            assert time.monotonic() - started < 0.5, "a take waited on the dead Redis"
            assert (throttle.allowed, throttle.degraded) == (True, True)
        await rl.settle(key, -10)  # ignored, does not raise
        [outage] = warnings_of(caplog)
        assert "Redis is unreachable" in outage

        await asyncio.sleep(0.25)
        await rl.take(key, 40)
        [_, summary] = warnings_of(caplog)
        assert summary.startswith(
            "Redis is unreachable: 22 requests were served unthrottled in the last 0."
        ), summary

        throwaway_redis.start()  # empty: buckets start full again
        await asyncio.sleep(RETRY_AFTER_SECONDS + 0.1)
        back = await rl.take(key, 40)
        assert (back.degraded, back.available) == (False, 60)
        assert "Redis is reachable again" in warnings_of(caplog)
    finally:
        await rl.close()


async def test_redis_down_fails_closed(throwaway_redis: ThrowawayRedis) -> None:
    rl = limiter(RedisBuckets.from_url(throwaway_redis.url), 100, 1.0, fail_open=False)
    key = new_key()
    try:
        assert (await rl.take(key, 1)).allowed
        throwaway_redis.stop()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(RateLimitUnavailable):
                await rl.take(key, 1)
            assert time.monotonic() - started < 0.5
        await rl.settle(key, 1)
    finally:
        await rl.close()
