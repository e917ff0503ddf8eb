"""`python -m bench`: the benchmark (or, with --soak, the soak); see bench/__init__.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import run, soak
from bench.dataset import MIN_SCALE, SCALE
from bench.operations import ROOT_FIELDS
from bench.processes import ROOT


def _keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ROOT_FIELDS]
    if not keys or unknown:
        raise argparse.ArgumentTypeError(
            f"operations must be a comma-separated subset of {','.join(ROOT_FIELDS)}, got {text!r}"
        )
    return keys


def _scales(text: str) -> list[float]:
    try:
        scales = [float(k) for k in text.split(",") if k.strip()]
    except ValueError:
        scales = []
    if not scales or len(set(scales)) != len(scales):
        raise argparse.ArgumentTypeError(
            f"--scale takes distinct numbers separated by commas (10,1), got {text!r}"
        )
    return scales


def _setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("PINQL_"):
        raise argparse.ArgumentTypeError(f"expected PINQL_NAME=value, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="pinql against the floor (same SQL, no GraphQL) in the same run.",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured row")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores shared)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per row")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds per operation (its rows take turns; duration split)",
    )
    parser.add_argument(
        "--operations",
        type=_keys,
        default=list(ROOT_FIELDS),
        help=f"comma-separated: {','.join(ROOT_FIELDS)} (default: all)",
    )
    parser.add_argument(
        "--write",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="the report's file (a soak replaces only its soak section)",
    )
    parser.add_argument("--no-write", dest="write", action="store_const", const=None)
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="SECONDS",
        help="instead: drive the feed this long and sample each worker's RSS",
    )
    parser.add_argument(
        "--server-env",
        type=_setting,
        action="append",
        default=[],
        metavar="PINQL_NAME=VALUE",
        help="a setting of the server, e.g. PINQL_FAST_PATH=false (repeatable)",
    )
    parser.add_argument("--soak-interval", type=int, default=10, help="seconds between samples")
    parser.add_argument(
        "--scale",
        dest="scales",
        type=_scales,
        default=[SCALE, 1.0],
        help=f"the data sets' sizes, measured one after the other in this run (1 = 100k pins; "
        f"default {SCALE:g},1: the report then compares each operation's cost across them); "
        "each seeded once into its own database",
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also serve REF's code (a commit-ish of this repository, e.g. main), checked "
        "out into a temporary git worktree, and measure it in the same rounds",
    )
    parser.add_argument(
        "--no-peer",
        dest="peer",
        action="store_false",
        help="leave out the peer row: PostGraphile 4 sent an equivalent query (it needs "
        "Node.js and npm; bench/postgraphile/)",
    )
    args = parser.parse_args(argv)
    if args.baseline is not None and args.soak:
        parser.error("--baseline measures operations against REF; the soak has no baseline")
    if (
        args.workers < 1
        or args.duration < 1
        or args.connections < 1
        or args.rounds < 1
        or args.soak < 0
        or not all(MIN_SCALE <= scale <= 100 for scale in args.scales)
    ):
        parser.error(
            "--workers, --duration, --connections and --rounds must be >= 1, --soak >= 0, "
            f"--scale {MIN_SCALE:g}..100"
        )
    return args


def main() -> int:
    """Runs what the options ask for."""
    args = parse_args()
    return soak.main(args) if args.soak else run.main(args)


if __name__ == "__main__":
    sys.exit(main())
