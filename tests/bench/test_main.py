"""`python -m bench`'s options (bench/__main__.py): which operations, and a baseline."""

from __future__ import annotations

import pytest

from bench.__main__ import parse_args
from bench.operations import ROOT_FIELDS


def test_every_query_of_operations_is_benchmarked_by_default() -> None:
    args = parse_args([])

    assert args.operations == ["feed", "board", "profile", "pin", "latest", "nodes"]
    assert args.operations == list(ROOT_FIELDS)
    assert args.baseline is None


def test_the_operations_filter_takes_the_new_keys() -> None:
    assert parse_args(["--operations", "latest,nodes"]).operations == ["latest", "nodes"]
    assert parse_args(["--operations", " nodes , feed "]).operations == ["nodes", "feed"]


@pytest.mark.parametrize("value", ["", "latest,search", "LatestPins", "addComment"])
def test_the_operations_filter_refuses_what_is_not_benchmarked(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--operations", value])
    assert "comma-separated subset of feed,board,profile,pin,latest,nodes" in (
        capsys.readouterr().err
    )


def test_a_baseline_is_a_commit_ish() -> None:
    args = parse_args(["--baseline", "4ee972f", "--duration", "6", "--rounds", "2"])

    assert (args.baseline, args.duration, args.rounds) == ("4ee972f", 6, 2)


def test_the_soak_has_no_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--soak", "60", "--baseline", "main"])
    assert "the soak has no baseline" in capsys.readouterr().err
