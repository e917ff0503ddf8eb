"""`python -m bench.plans_soak` (bench/plans_soak.py, plans_load.py, plan_documents.py): a
few seconds of it against the test demo data set, its documents and its schedule."""

from __future__ import annotations

import inspect
import itertools
import math
import random

import pytest

from bench.plan_documents import generate
from bench.plans_load import schedule
from bench.plans_soak import EXIT_MARGIN, GRACEFUL_TIMEOUT, parse_args, run
from execution.documents import sha256_hex
from server.cli.run import serve


def test_a_short_soak_sends_every_document_and_reports_sane_numbers(demo_database: str) -> None:
    options = ["--documents", "20", "--duration", "4", "--graceful-timeout", "5"]
    args = parse_args([*options, "--database-url", demo_database])

    summary = run(args, "python -m bench.plans_soak (test)")

    load = summary.load
    assert load.answered > 0
    assert len(load.sent) == min(20, math.ceil(load.requests / args.repeats))  # in order
    assert load.answered + load.failures + load.failed_at_exit == load.requests
    assert 0 <= load.with_errors <= load.answered
    start, most, end = summary.rss_mib
    assert 20 < start <= most < args.rss_ceiling
    assert start <= end <= most
    assert load.ceiling_at is None
    assert args.duration <= load.seconds < args.duration + 3
    probe = summary.probe
    assert probe.probes > 10  # one every 10 ms, one at a time
    assert probe.failed == 0
    assert 0 < probe.p99_ms <= probe.max_ms
    assert summary.exit_seconds is not None
    assert summary.exit_seconds < args.graceful_timeout + EXIT_MARGIN
    markdown = summary.markdown()
    assert "| documents | 20 generated in" in markdown
    assert f"{len(load.sent)} distinct sent" in markdown
    assert "--timeout-graceful-shutdown 5;" in markdown


def test_padded_documents_sent_by_apq_are_stored_and_weighed_in_redis(
    demo_database: str,
) -> None:
    options = ["--documents", "10", "--duration", "3", "--pad", "4000", "--apq"]
    args = parse_args([*options, "--repeats", "1", "--database-url", demo_database])

    summary = run(args, "python -m bench.plans_soak (test)")

    assert summary.load.failures == 0, summary.load.failed
    redis = summary.redis
    assert redis is not None
    assert redis.keys == redis.indexed == len(summary.load.sent)  # one per distinct text
    assert redis.key_bytes > redis.keys * 4000  # each holds its padded text
    assert "| Redis | used_memory " in summary.markdown()
    assert "each padded with a 4,000-byte comment; sent by APQ." in summary.markdown()


def test_a_padded_document_ends_with_a_comment_of_that_size() -> None:
    [document] = generate(1, 3, {"User": ["VXNlcjox"]}, ["olive"])
    padded = document.padded(100, apq=True)
    assert padded.text.startswith(document.text)
    assert len(padded.text) - len(document.text) == 100
    body = padded.body(random.Random(0))
    assert body["extensions"]["persistedQuery"]["sha256Hash"] == sha256_hex(padded.text)
    assert "extensions" not in document.padded(100, apq=False).body(random.Random(0))


def test_the_documents_are_distinct_and_the_same_for_the_same_seed() -> None:
    ids = {"User": ["VXNlcjox"], "Board": ["Qm9hcmQ6MQ"], "Pin": ["UGluOjE"]}
    names = ["olive"]
    first = generate(12, 7, ids, names)

    assert len({document.text for document in first}) == 12
    assert [d.text for d in generate(12, 7, ids, names)] == [d.text for d in first]
    assert [d.text for d in generate(12, 8, ids, names)] != [d.text for d in first]


def test_each_document_is_sent_repeats_times_in_a_row_then_all_over_again() -> None:
    assert list(itertools.islice(schedule(3, 2), 8)) == [0, 0, 1, 1, 2, 2, 0, 0]


def test_the_graceful_timeout_defaults_to_pinql_serves() -> None:
    default = inspect.signature(serve).parameters["graceful_timeout"].default
    assert default == GRACEFUL_TIMEOUT
    assert parse_args([]).graceful_timeout == default


@pytest.mark.parametrize(
    "wrong", [["--documents", "0"], ["--duration", "0"], ["--connections", "0"]]
)
def test_counts_out_of_range_are_refused(wrong: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(wrong)
