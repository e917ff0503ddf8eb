"""`python -m bench`'s options (bench/__main__.py): which operations, a baseline, the
data set's scale, the peer."""

from __future__ import annotations

import pytest

from bench.__main__ import parse_args
from bench.dataset import SCALE, dataset_database
from bench.operations import ROOT_FIELDS


def test_every_query_of_operations_is_benchmarked_by_default() -> None:
    args = parse_args([])

    assert args.operations == [
        *("feed", "board", "profile", "pin", "latest", "nodes", "search", "related")
    ]
    assert args.operations == list(ROOT_FIELDS)
    assert args.baseline is None


def test_the_operations_filter_takes_the_new_keys() -> None:
    assert parse_args(["--operations", "latest,nodes"]).operations == ["latest", "nodes"]
    assert parse_args(["--operations", " nodes , feed "]).operations == ["nodes", "feed"]


@pytest.mark.parametrize("value", ["", "latest,searches", "LatestPins", "addComment"])
def test_the_operations_filter_refuses_what_is_not_benchmarked(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--operations", value])
    assert "comma-separated subset of feed,board,profile,pin,latest,nodes,search,related" in (
        capsys.readouterr().err
    )


def test_a_baseline_is_a_commit_ish() -> None:
    args = parse_args(["--baseline", "4ee972f", "--duration", "6", "--rounds", "2"])

    assert (args.baseline, args.duration, args.rounds) == ("4ee972f", 6, 2)


def test_the_soak_has_no_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--soak", "60", "--baseline", "main"])
    assert "the soak has no baseline" in capsys.readouterr().err


def test_each_scale_picks_a_data_set_of_its_own() -> None:
    assert parse_args([]).scales == [SCALE, 1] == [10, 1]
    assert [dataset_database(s) for s in parse_args([]).scales] == [
        "pinql_bench",
        "pinql_bench_s1",
    ]
    assert parse_args(["--scale", "1"]).scales == [1]
    assert dataset_database(parse_args(["--scale", "0.5"]).scales[0]) == "pinql_bench_s0_5"


@pytest.mark.parametrize("value", ["", "10,,x", "1,1"])
def test_scales_are_distinct_numbers(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--scale", value])
    assert "--scale takes distinct numbers separated by commas" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "0.001", "101", "-1", "10,0"])
def test_a_scale_outside_the_data_sets_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--scale", value])
    assert "--scale 0.01..100" in capsys.readouterr().err


def test_the_peer_is_measured_unless_left_out() -> None:
    assert parse_args([]).peer is True
    assert parse_args(["--no-peer"]).peer is False
