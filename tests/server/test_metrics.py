"""server/metrics.py: what /metrics counts for real requests (statements as the connections
saw them), the label bounds, PINQL_METRICS=false, and multiprocess aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from db.pool import Session
from execution.documents import sha256_hex
from server.metrics import (
    BATCH_SIZES,
    MAX_LABEL_VALUES,
    SECONDS,
    STATEMENTS,
    Metrics,
    RequestRecord,
)
from tests import world
from tests.conftest import MakeDatabase, new_database
from tests.support import GraphQLClient, served

if TYPE_CHECKING:
    pass

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FEED = "query Feed { pins(first: 3) { nodes { id creator { username } } } }"
PINS = "query Pins { pins(first: 2) { totalCount } }"
MANY = "query Many { pins(first: 19) { nodes { id } } }"  # costs 1 + 19 = 20


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when absent."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def scrape(client: GraphQLClient) -> Samples:
    """GET /metrics, parsed."""
    response = await client.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    return parse(response.text)


def apq(query: str | None, sha256: str) -> dict[str, Any]:
    """A POST body of Apollo's APQ protocol."""
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if query is not None:
        body["query"] = query
    return body


async def test_metrics_count_what_requests_did(make_database: MakeDatabase) -> None:
    settings: dict[str, Any] = {
        "PINQL_RATE_LIMIT_MAXIMUM": 20,
        "PINQL_MAX_QUERY_COST": 20,
        "PINQL_RATE_LIMIT_RESTORE_RATE": 0.001,
    }
    clients = {"web": "open", "mobile": "open"}  # registered: labels
    database = await new_database(make_database, with_world=True)
    async with served(database, clients=clients, **settings) as (client, state):
        client.log.clear()
        web, mobile = client.client("web", "1.4.0"), client.client("mobile", None)
        # Plain text, named: its name is no label (anyone can send any text).
        pins = await client.post(PINS, viewer=world.OLIVE, headers=web)
        assert pins.status_code == 200, pins.text
        # APQ: hash only (not found), hash and text (stored, runs), hash only (runs).
        feed_hash = sha256_hex(FEED)
        not_found = await client.http.post("/graphql", json=apq(None, feed_hash), headers=web)
        assert not_found.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        creators: set[str] = set()
        for body in (apq(FEED, feed_hash), apq(None, feed_hash)):
            response = await client.http.post("/graphql", json=body, headers=web)
            assert response.status_code == 200, response.text
            creators = {n["creator"]["username"] for n in response.json()["data"]["pins"]["nodes"]}
        # An error: a bad token.
        refused = await client.post(PINS, headers={**web, "Authorization": "Bearer nope"})
        assert refused.status_code == 401
        # Rate limited: the first takes the whole bucket, the second is refused.
        assert (await client.post(MANY, viewer=world.OTTO, headers=mobile)).status_code == 200
        throttled = await client.post(MANY, viewer=world.OTTO, headers=mobile)
        assert throttled.status_code == 429, throttled.text
        statements = client.log.count

        samples = await scrape(client)
        idle = state["database"].pool.get_idle_size()
        events = state["persisted"].stats.of("web")

    requests = "pinql_requests_total"
    assert sample(samples, requests, operation="-", client="web", status="200") == 2
    assert sample(samples, requests, operation="Feed", client="web", status="200") == 2
    assert sample(samples, requests, operation="-", client="web", status="401") == 1
    assert sample(samples, requests, operation="-", client="mobile", status="200") == 1
    assert sample(samples, requests, operation="-", client="mobile", status="429") == 1
    assert total(samples, requests) == 7
    duration = "pinql_request_duration_seconds"
    assert sample(samples, f"{duration}_count", operation="Feed", client="web") == 2
    assert sample(samples, f"{duration}_bucket", operation="Feed", client="web", le="+Inf") == 2
    assert sample(samples, f"{duration}_sum", operation="Feed", client="web") > 0
    # Four operations ran, on the engine; their statements are what the connections saw.
    assert sample(samples, "pinql_executions_total", execution="fast", reason="planned") == 4
    assert total(samples, "pinql_executions_total") == 4
    assert sample(samples, "pinql_sql_statements_per_request_count") == 4
    assert sample(samples, "pinql_sql_statements_per_request_sum") == statements
    assert sample(samples, "pinql_sql_seconds_per_request_count") == 4
    assert sample(samples, "pinql_sql_seconds_per_request_sum") > 0
    # Each statement of these reads is one loader batch.
    batches = "pinql_loader_batch_size"
    assert total(samples, f"{batches}_count") == statements
    # Pins, Feed twice and Many list the latest pins: one key each
    assert sample(samples, f"{batches}_count", loader="LatestPinsLoader") == 4
    assert sample(samples, f"{batches}_sum", loader="LatestPinsLoader") == 4
    assert sample(samples, f"{batches}_count", loader="UserByIdLoader") == 2
    assert sample(samples, f"{batches}_sum", loader="UserByIdLoader") == 2 * len(creators)
    # Persisted-query events, as PersistedQueryStats counted them.
    assert events == {"miss": 2, "apq_stored": 1, "hit_local": 1}
    for event, n in events.items():
        assert sample(samples, "pinql_persisted_queries_total", client="web", event=event) == n
    assert total(samples, "pinql_persisted_queries_total") == 4
    assert sample(samples, "pinql_rate_limit_refusals_total", client="mobile") == 1
    assert total(samples, "pinql_rate_limit_refusals_total") == 1
    assert sample(samples, "pinql_db_pool_connections", state="in_use") == 0
    assert sample(samples, "pinql_db_pool_connections", state="idle") == idle > 0


async def test_the_pool_gauge_counts_connections_in_use(world_database: str) -> None:
    async with served(world_database) as (client, state):
        session = state["database"].session()
        try:
            await session.fetch("select 1")
            samples = await scrape(client)
            assert sample(samples, "pinql_db_pool_connections", state="in_use") == 1
        finally:
            await session.close()
        assert sample(await scrape(client), "pinql_db_pool_connections", state="in_use") == 0


async def test_the_cache_gauges_weigh_what_the_caches_keep(world_database: str) -> None:
    query = "query Kept { viewer { id } }"
    async with served(world_database) as (client, state):
        before = await scrape(client)
        for _ in range(2):  # kept from its second sighting
            await client.data(query, viewer=world.OLIVE)
        after = await scrape(client)
        plans = state["runs"].plans
        assert plans is not None
        documents = state["persisted"].documents
    for cache, kept in (("documents", documents), ("plans", plans)):
        entries = sample(after, "pinql_cache_entries", cache=cache)
        assert entries == len(kept) == sample(before, "pinql_cache_entries", cache=cache) + 1
        assert sample(after, "pinql_cache_bytes", cache=cache) == kept.weight > 0


async def test_metrics_off_is_404_and_counts_nothing(world_database: str) -> None:
    async with served(world_database, PINQL_METRICS=False) as (client, _):
        await client.data(PINS)
        assert (await client.http.get("/metrics")).status_code == 404


def test_operation_and_client_labels_are_bounded() -> None:
    metrics = Metrics(registered={"c0"}.__contains__)
    for n in range(MAX_LABEL_VALUES + 5):
        metrics.observe(
            RequestRecord("r", status=200, client=f"c{n}", operation=f"Op{n}", known=True)
        )
    metrics.observe(RequestRecord("r", status=200, client="c0", operation="Op0", known=False))
    metrics.observe(RequestRecord("r", status=200, client="anonymous", operation=None))
    samples = parse(metrics.exposition().decode())
    name = "pinql_requests_total"
    requests = {ls for (n, ls) in samples if n == name}
    assert len(requests) == MAX_LABEL_VALUES + 3  # the first ones, "-" for the rest, c0's "-"
    assert {dict(ls)["client"] for ls in requests} == {"c0", "other", "anonymous"}
    assert sample(samples, name, operation="-", client="other", status="200") == 5
    assert sample(samples, name, operation="-", client="c0", status="200") == 1
    assert (
        sample(samples, "pinql_requests_total", operation="Op1", client="other", status="200") == 1
    )


def test_batch_sizes_added_in_bulk_read_as_observed_one_by_one() -> None:
    """BatchSizes adds its tally through the histogram's own values: the exposition must be
    what prometheus-client's `observe` gives for the same batches."""
    sizes = {"UserByIdLoader": [1, 1, 3, 30, 30, 30, 1000, 1001, 5000], "PinByIdLoader": [2]}
    metrics = Metrics()
    reference = Histogram(
        "pinql_loader_batch_size",
        "Keys per DataLoader batch (one SQL statement each)",
        ("loader",),
        buckets=BATCH_SIZES,
        registry=CollectorRegistry(),
    )
    for loader, values in sizes.items():
        for size in values:
            metrics.loader_batch(loader, size)
            reference.labels(loader).observe(size)
    assert metrics.loader_batch.tally[("UserByIdLoader", 30)] == 3
    [expected] = [f for f in reference.collect()]
    got = {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(metrics.exposition().decode())
        if f.name == "pinql_loader_batch_size"
        for s in f.samples
        if not s.name.endswith("_created")
    }
    want = {
        (s.name, frozenset(s.labels.items())): s.value
        for s in expected.samples
        if not s.name.endswith("_created")
    }
    assert got == want and len(want) == 2 * (len(BATCH_SIZES) + 3)  # buckets, +Inf, count, sum
    assert not metrics.loader_batch.tally  # flushed by the exposition
    assert parse(metrics.exposition().decode()) == parse(metrics.exposition().decode())


def test_requests_tallied_read_as_observed_one_by_one() -> None:
    """Metrics.observe tallies each request (`Tallied`): the exposition must be what
    prometheus-client's own `inc` and `observe` give for the same requests, bucket bounds
    included."""
    records = [
        RequestRecord("a", 200, 0.005, "web", operation="Feed", known=True, execution="fast"),
        RequestRecord("b", 200, 0.0049, "web", operation="Feed", known=True, execution="fast"),
        RequestRecord("c", 200, 7.5, "web", operation="Feed", known=True, execution="graphql"),
        RequestRecord("d", 400, 0.2, "ios", operation="Other", known=False),
        RequestRecord("e", 200, 11.0, None, execution="fallback"),
    ]
    statements = [3, 0, 50, 0, 51]
    metrics = Metrics(registered={"web", "ios"}.__contains__)
    registry = CollectorRegistry()
    requests = Counter("pinql_requests", "", ("operation", "client", "status"), registry=registry)
    duration = Histogram(
        "pinql_request_duration_seconds",
        "",
        ("operation", "client"),
        buckets=SECONDS,
        registry=registry,
    )
    executions = Counter("pinql_executions", "", ("execution", "reason"), registry=registry)
    per_request = Histogram(
        "pinql_sql_statements_per_request", "", buckets=STATEMENTS, registry=registry
    )
    reasons = ["planned", "planned", "mutation", None, "size"]
    for record, count, reason in zip(records, statements, reasons, strict=True):
        record.execution_reason = reason
        session = Session.__new__(Session)
        session.statements, session.sql_seconds = count, count / 1000
        record.session = session if record.execution else None
        metrics.observe(record)
        operation = record.operation if record.known and record.operation else "-"
        client = record.client or "-"
        requests.labels(operation, client, str(record.status)).inc()
        duration.labels(operation, client).observe(record.seconds)
        if record.execution:
            executions.labels(record.execution, reason).inc()
            per_request.observe(count)
    names = {
        "pinql_requests",
        "pinql_request_duration_seconds",
        "pinql_executions",
        "pinql_sql_statements_per_request",
    }

    def samples(text: str) -> Samples:
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            if family.name in names
            for sample in family.samples
            if not sample.name.endswith("_created")
        }

    want = samples(generate_latest(registry).decode())
    assert samples(metrics.exposition().decode()) == want and len(want) > 30
    assert samples(metrics.exposition().decode()) == want  # flushed once, not twice


MULTIPROCESS_RUN = """
import asyncio, sys
from tests.support import serve

async def main(url, requests, read):
    async with serve(url) as client:
        for _ in range(requests):
            await client.data("query Count { pins(first: 1) { totalCount } }")
        if read:
            print((await client.http.get("/metrics")).text)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "read"))
"""


def run_worker(directory: Path, database_url: str, requests: int, read: bool) -> str:
    """A process of its own (a worker) serving `requests` requests in multiprocess mode."""
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [
            sys.executable,
            "-c",
            textwrap.dedent(MULTIPROCESS_RUN),
            database_url,
            str(requests),
            "read" if read else "-",
        ],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_multiprocess_mode_adds_up_every_workers_samples(
    tmp_path: Path, world_database: str
) -> None:
    run_worker(tmp_path, world_database, 2, read=False)
    samples = parse(run_worker(tmp_path, world_database, 3, read=True))
    labels = {"operation": "-", "client": "anonymous", "status": "200"}
    assert sample(samples, "pinql_requests_total", **labels) == 5
    assert sample(samples, "pinql_executions_total", execution="fast", reason="planned") == 5
    assert sample(samples, "pinql_sql_statements_per_request_count") == 5
    assert sample(samples, "pinql_sql_statements_per_request_sum") >= 5
    # Batch sizes: the first worker's added when it stopped, the second's when it answered.
    batches = "pinql_loader_batch_size"
    assert sample(samples, f"{batches}_count", loader="LatestPinsLoader") == 5
    assert sample(samples, f"{batches}_sum", loader="LatestPinsLoader") == 5
    # The pool gauge sums the live workers: the first had dropped its own when it stopped.
    assert sample(samples, "pinql_db_pool_connections", state="in_use") == 0
    assert sample(samples, "pinql_db_pool_connections", state="idle") >= 1
    assert sample(samples, "pinql_cache_entries", cache="plans") == 1  # the live worker's
    assert sample(samples, "pinql_cache_bytes", cache="documents") > 0
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per worker
    assert not list(tmp_path.glob("gauge_livesum_*.db"))  # both stopped
