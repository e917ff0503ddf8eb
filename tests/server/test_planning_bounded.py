"""Planning never blocks other requests: while a worker answers documents whose shape hangs
on Boolean condition variables (tests/server/condition_documents.py), a `{ __typename }`
sent to the same worker every 5 ms is answered within 50 ms, and each document is answered
200 with `data`, within the request deadline, exactly as graphql-core's executor answers it
(PINQL_FAST_PATH=false).

The worker is a real uvicorn with the default settings (bench/processes.py; rate limits off,
in-process stores) serving tests/world.py, with its event loop in a process of its own. The
probe (bench/probe.py) runs in a thread of this process on a connection of its own. In
process, through httpx's ASGI transport, the probe would share the event loop it measures:
a blocked loop delays the probe's sending as much as its answer, so a probe timed from its
sending sees no wait, and one timed from its schedule also counts this process's own work.

Each document is sent with VARIANTS sets of condition values at once (so the first requests
of a new text arrive together), then again as NEW_TEXTS new texts (a `# comment` appended:
a new hash, parsed, validated and planned again). The documents stay within the default
limits (checked first: a refused document proves nothing). With -s the test prints, per
text, its answer time and the worst probe during it; a failure says the same. The worker
inherits the environment's PINQL_* settings: `PINQL_FAST_PATH=false pytest ...` shows what
graphql-core's path alone makes the probes wait.

A stall must be the document's to fail the test: what a document makes the worker do, it
makes it do again for each new text of it (parsed, validated, costed, planned and run
again), while the machine's other processes (PostgreSQL, this one) can take the worker's
core for tens of milliseconds once. So a document during (or right after) whose text a
probe waited past the bound is sent again as CONFIRMATIONS more new texts, each under a
probe of its own, and fails the test when every one of them stalls too. A stall before
the first text, on the idle worker, fails it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.probe import Probe, Sample
from bench.processes import Server, serving
from schema.build import build_schema
from server.app import preparer
from server.auth import issue_token
from server.cost import requested_cost
from server.settings import Settings
from tests import world
from tests.server.condition_documents import condition_document
from tests.support import SECRET, serve, without_cost

DOCUMENTS = {
    "N=4 3.4 KB": condition_document(4, roots=10),
    "N=4 3.9 KB": condition_document(4, roots=7, wide=True),
    "N=8 4.5 KB": condition_document(8, roots=13, wide=True),
    "N=12 4.5 KB": condition_document(12, roots=13, wide=True),
}
SIZES = {"N=4 3.4 KB": 3400, "N=4 3.9 KB": 3900, "N=8 4.5 KB": 4500, "N=12 4.5 KB": 4500}
"""Bytes each document should have, within 3%."""
VARIANTS = 4
"""Sets of condition values each text is sent with, at once."""
NEW_TEXTS = 2
"""New texts of each document (a comment appended) sent after the first."""
CONFIRMATIONS = 2
"""New texts sent again of a document a probe stalled during, to confirm the stall."""
PROBE_INTERVAL = 0.005
PROBE_BOUND = 0.050
"""The longest a `{ __typename }` may wait, in seconds."""
APP = "server.app:create_app"


@dataclass(frozen=True, slots=True)
class Sent:
    """One text sent with its variants: when, how long each answer took, the answers."""

    document: str
    """Its key in DOCUMENTS."""
    label: str
    text: str
    started: float
    ended: float
    seconds: list[float]
    answers: list[httpx.Response]


@pytest.fixture
def worker(world_database: str, tmp_path: Path) -> Iterator[Server]:
    """uvicorn serving the world with the default settings, but for rate limits (the
    documents are sent dozens of times in seconds) and stores (in-process: an empty
    REDIS_URL, as tests/support.py's `serve`)."""
    env = {
        "DATABASE_URL": world_database,
        "PINQL_SECRET": SECRET,
        "PINQL_RATE_LIMIT": "false",
        "REDIS_URL": "",
        "PINQL_DATA_DIR": str(tmp_path / "data"),
    }
    with serving(APP, env, tmp_path / "server.log") as server:
        yield server


def test_every_document_is_within_the_default_limits() -> None:
    settings = Settings.model_validate({"DATABASE_URL": "unused"})
    prepare = preparer(settings)
    schema = build_schema()._schema
    for label, document in DOCUMENTS.items():
        assert abs(len(document.text) - SIZES[label]) <= SIZES[label] * 0.03, label
        prepared = prepare(document.text)
        assert prepared.valid, (label, [e.message for e in prepared.errors])
        assert prepared.document is not None
        operation = prepared.operation(None)
        assert not isinstance(operation, Exception)
        for variables in document.variants(VARIANTS):
            cost = requested_cost(schema, prepared.document, operation, variables)
            assert cost <= settings.max_query_cost, (label, variables, cost)


async def test_planning_never_blocks_a_typename(world_database: str, worker: Server) -> None:
    deadline = Settings.model_validate({"DATABASE_URL": "unused"}).request_timeout_seconds
    headers = {"Authorization": f"Bearer {issue_token(world.OLIVE, SECRET, 600)}"}
    expected = await _expected(world_database, headers)

    sent: list[Sent] = []
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=worker.base, timeout=60, headers=headers) as http:
        with Probe(worker.base, PROBE_INTERVAL) as probe:
            await asyncio.sleep(0.2)  # a few probes of the idle worker first
            for label, document in DOCUMENTS.items():
                texts = [document.text] + [document.with_comment(n) for n in range(NEW_TEXTS)]
                for n, text in enumerate(texts):
                    name = f"{label}, text {n + 1}" if n else f"{label}, first text"
                    sent.append(await _send(http, label, name, text))
            await asyncio.sleep(0.2)
        report = _report(sent, probe.samples)
        idle, stalls = _stalls(probe.samples, sent)
        if idle:
            problems.append(f"`{{ __typename }}` waited {_worst(idle)} on the idle worker")
        for key, seen in stalls.items():
            confirmed = [_worst(seen)]
            for attempt in range(CONFIRMATIONS):
                label = f"{key}, sent again {attempt + 1}"
                with Probe(worker.base, PROBE_INTERVAL) as again:
                    text = DOCUMENTS[key].with_comment(NEW_TEXTS + attempt)
                    sent.append(await _send(http, key, label, text))
                    await asyncio.sleep(0.1)
                report += "\n\n" + _report(sent[-1:], again.samples)
                _, slow = _stalls(again.samples, sent[-1:])
                if not slow:
                    break
                confirmed += [_worst(each) for each in slow.values()]
            else:
                problems.append(
                    f"`{{ __typename }}` waited longer than {PROBE_BOUND * 1000:.0f} ms (or "
                    f"failed) during each of {1 + CONFIRMATIONS} texts of {key}: "
                    + "; ".join(confirmed)
                )
    print(f"\n{report}")

    for each in sent:
        document = DOCUMENTS[each.document]
        for variables, answer, seconds, want in zip(
            document.variants(VARIANTS),
            each.answers,
            each.seconds,
            expected[each.document],
            strict=True,
        ):
            where = f"{each.label} with " + " ".join(
                f"{name}={str(variables[name]).lower()}" for name in document.names
            )
            if answer.status_code != 200 or "data" not in answer.json():
                problems.append(f"{where}: HTTP {answer.status_code} {answer.text[:300]}")
            elif seconds > deadline:
                problems.append(f"{where}: answered in {seconds:.1f} s, past {deadline:g} s")
            elif without_cost(answer.json()) != want:
                problems.append(f"{where}: the answer differs from graphql-core's")
    assert not problems, "\n".join(problems) + f"\n\n{report}"


async def _expected(database: str, headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each document's answers per variant from graphql-core's executor (in process)."""
    answers: dict[str, list[dict[str, Any]]] = {}
    async with serve(database, PINQL_FAST_PATH=False, PINQL_RATE_LIMIT=False) as client:
        for label, document in DOCUMENTS.items():
            answers[label] = []
            for variables in document.variants(VARIANTS):
                response = await client.http.post(
                    "/graphql",
                    json={"query": document.text, "variables": variables},
                    headers=headers,
                )
                assert response.status_code == 200, (label, response.text[:1000])
                body = response.json()
                assert isinstance(body.get("data"), dict), (label, body)
                answers[label].append(without_cost(body))
    return answers


async def _send(http: httpx.AsyncClient, key: str, label: str, text: str) -> Sent:
    """Sends `text` with each variant of DOCUMENTS[key] at once."""

    async def one(variables: dict[str, Any]) -> tuple[float, httpx.Response]:
        started = time.monotonic()
        answer = await http.post("/graphql", json={"query": text, "variables": variables})
        return time.monotonic() - started, answer

    started = time.monotonic()
    done = await asyncio.gather(*(one(v) for v in DOCUMENTS[key].variants(VARIANTS)))
    ended = time.monotonic()
    return Sent(key, label, text, started, ended, [s for s, _ in done], [a for _, a in done])


def _stalls(
    samples: list[Sample], sent: list[Sent]
) -> tuple[list[Sample], dict[str, list[Sample]]]:
    """The probes that waited past the bound (or failed): those before the first text, and
    the others by the DOCUMENTS key of the text being answered when each left, else of the
    last text answered before (what it left behind)."""
    idle: list[Sample] = []
    stalls: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample.seconds <= PROBE_BOUND and sample.ok:
            continue
        during = [each.document for each in sent if each.started <= sample.sent]
        if during:
            stalls.setdefault(during[-1], []).append(sample)
        else:
            idle.append(sample)
    return idle, stalls


def _worst(samples: list[Sample]) -> str:
    worst = max(samples, key=lambda s: s.seconds)
    failed = sum(not s.ok for s in samples)
    return f"{worst.seconds * 1000:.0f} ms" + (f" ({failed} failed)" if failed else "")


def _report(sent: list[Sent], samples: list[Sample]) -> str:
    """A markdown table: per text, its bytes, its slowest answer, the probes meanwhile."""
    lines = [
        "| text | bytes | slowest answer (s) | probes | worst probe (ms) | probes over bound |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for each in sent:
        probes = [s for s in samples if each.started <= s.sent <= each.ended]
        worst = max((s.seconds for s in probes), default=0.0)
        over = sum(s.seconds > PROBE_BOUND for s in probes)
        lines.append(
            f"| {each.label} | {len(each.text.encode())} | {max(each.seconds):.2f} | "
            f"{len(probes)} | {worst * 1000:.0f} | {over} |"
        )
    worst_all = max((s.seconds for s in samples), default=0.0)
    lines.append(
        f"\n{len(samples)} probes in all, every {PROBE_INTERVAL * 1000:g} ms; the worst "
        f"waited {worst_all * 1000:.0f} ms (bound: {PROBE_BOUND * 1000:g} ms)"
    )
    return "\n".join(lines)
