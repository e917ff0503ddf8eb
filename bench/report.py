"""The benchmark's report: the results (bench/report_table.py's table, each row's ratio to the
floor, pinql beside the peer: bench/report_peer.py), the machine and the run's settings,
and docs/benchmarks.md (whose soak section, written by `--soak`, a benchmark run keeps)."""

from __future__ import annotations

import argparse
import json
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.dataset import BASELINE_REDIS_URL
from bench.harness import Harness
from bench.machine import Machine
from bench.operations import BASELINE, PEER, ROWS, row_keys
from bench.report_peer import beside_peer, how_to_read_peer, peer_sent, peer_variables
from bench.report_table import (
    ALIGN,
    FEW_RESPONSES,
    HEADER,
    MAX_P99_OVER_P50,
    MAX_ROUND_TRIPS,
    MAX_SCALE_GROWTH,
    MIN_RATIO,
    PG_CPU_TOLERANCE,
    Measured,
    row,
    verdict,
)

SOAK_HEADING = "## Soak"


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run measured, and what it ran on."""

    command: str
    date: datetime
    args: argparse.Namespace
    scale: float
    """The data set's scale this report's rows ran on."""
    machine: Machine
    harness: Harness
    results: list[Measured]
    load_before: tuple[float, float, float]
    busy_before: float
    """Cores the machine kept busy in the seconds before the run (nothing of ours running)."""
    load_after: tuple[float, float, float]
    warnings: list[str] = field(default_factory=list)
    """What the checks before the load found wrong (bench/run.py `check`)."""

    def _floor(self, operation: str) -> Measured | None:
        return next(
            (m for m in self.results if m.operation == operation and m.variant == "floor"), None
        )

    def table(self) -> str:
        """The results, one row per operation and way of sending it."""
        rows = [HEADER, ALIGN]
        for m in self.results:
            document = self.harness.operations[m.operation].name
            rows.append(row(m, self._floor(m.operation), document))
        return "\n".join(rows)

    def ratios(self) -> list[str]:
        """Each operation's rows' ratios to its floor, and this commit's to the baseline's
        (if served), as bullet lines."""
        lines = []
        for key, operation in self.harness.operations.items():
            floor = self._floor(key)
            if floor is None or floor.wrk.requests_per_second == 0:
                continue
            rate = floor.wrk.requests_per_second
            rows = {
                m.variant: m.wrk.requests_per_second for m in self.results if m.operation == key
            }
            parts = [
                f"{ROWS[row]} {row_rate / rate:.2f}x"
                for row, row_rate in rows.items()
                if row != "floor"
            ]
            versus = [
                f"{ROWS[row]} {rows[row] / rows[BASELINE + row]:.2f}x"
                for row in ("text", "hash")
                if rows.get(BASELINE + row) and row in rows
            ]
            lines.append(
                f"- {operation.name}: {', '.join(parts)} (floor {rate:.0f} req/s)"
                + (f"; this commit to the baseline: {', '.join(versus)}" if versus else "")
            )
        return lines

    def markdown(self) -> str:
        """docs/benchmarks.md without its soak section (this report alone)."""
        return markdown([self])

    def header(self) -> list[str]:
        """The title, the command, the date and the machine."""
        return [
            "# Benchmarks",
            "",
            "Written by the benchmark (`bench/`); the latest run's numbers. Run it with",
            "",
            "```sh",
            self.command,
            "```",
            "",
            f"Run on {self.date:%Y-%m-%d %H:%M} UTC.",
            "",
            "## Machine",
            "",
            *self.machine.lines(),
        ]

    def conditions(self) -> list[str]:
        """The data set and the machine's load around this report's rows."""
        loads = [m.usage.load for m in self.results]
        counts = ", ".join(f"{n:,} {t}" for t, n in self.harness.table_counts.items())
        return [
            f"- data set `{self.harness.database}` (scale {self.scale:g}): {counts}",
            f"- before the run: load average (1, 5, 15 min) {_loads(self.load_before)}, "
            f"{self.busy_before:.2f} cores busy; load average "
            f"1-min at the end of each measured run: {min(loads, default=0):.2f} to "
            f"{max(loads, default=0):.2f}; after: {_loads(self.load_after)}",
        ]

    def beside_peer(self) -> list[str]:
        """pinql beside PostGraphile, with the issue's targets against it (none unserved)."""
        names = {key: op.name for key, op in self.harness.operations.items()}
        table = beside_peer(self.results, names)
        if not table:
            return []
        intro = "Beside PostGraphile (the peer; it enforces no privacy rules), in the same run:"
        return [intro, "", *table, ""]

    def results_section(self, heading: str) -> list[str]:
        """The table, the ratios, pinql beside the peer and the warnings, under `heading`."""
        warnings = ["### Warnings" if heading.startswith("###") else "## Warnings", ""]
        warnings += [f"- {w}" for w in self.warnings] + [""]
        return [
            heading,
            "",
            self.table(),
            "",
            "Ratio to the floor measured in the same run"
            + (", and of this commit to the baseline:" if self.harness.baseline else ":"),
            "",
            *self.ratios(),
            "",
            *self.beside_peer(),
            *(warnings if self.warnings else []),
        ]

    def sent(self) -> list[str]:
        """The subjects, each operation's variables and statements, the servers and wrk."""
        h, a, s = self.harness, self.args, self.harness.subjects
        requests = [self._request_line(key) for key in h.operations]
        lines = [
            f"- viewer (every request signed in): user {s.viewer}, who follows "
            f"{s.followees} users; board {s.board}; profile `{s.username}`; "
            f"pin {s.repin} (a repin); NodeLookup's 12 objects: the 3 users the viewer "
            "followed last and the 3 newest public boards, pins and comments, interleaved",
            *requests,
            "- HomeFeed is `operations/HomeFeed.graphql` as it is (PinCard: creator, "
            "board, saveCount, commentCount; no comments, unlike the feed of issue 6), "
            "with 30 pins; LatestPins asks for 30 pins too.",
            "- full text: `POST /graphql` with `query` and `variables`; hash only: "
            "`POST /graphql` with `extensions.persistedQuery` (the operations are registered "
            "for client `web` first); floor: `POST /floor/<operation>` with `variables` "
            "(bench/floor/). All as client `web` with the viewer's bearer token.",
            f"- server: `{h.server.command}` with "
            + ", ".join(f"{k}={v}" for k, v in h.environment.items()),
        ]
        if h.baseline is not None:
            tree = h.baseline.checkout
            subject = textwrap.shorten(tree.subject, 80, placeholder=" …")
            lines.append(
                f"- baseline (`--baseline {tree.ref}`): commit `{tree.commit[:12]}` "
                f"({subject}), checked out into a temporary git worktree and served "
                "as the server above (same command, settings and python) on its own port, "
                f"run in the checkout with PYTHONPATH={tree.path} (every package of the "
                f"repository imported from there, checked), with REDIS_URL={BASELINE_REDIS_URL} "
                "(the operations registered there too)"
            )
        if h.peer is not None:
            lines.append(peer_sent(h.peer))
        order = ", ".join(ROWS[k] for k in row_keys(h.baseline is not None, h.peer is not None))
        lines.append(
            f"- wrk: {a.threads} thread(s), {a.connections} connections, {a.duration} s per "
            f"row after {a.warmup} s of warm-up, in {a.rounds} interleaved rounds of "
            f"{max(1, round(a.duration / a.rounds))} s ({order}; each round starting one row "
            "later, so every row is first as often as the others with as many rounds as "
            "rows; one row at a "
            "time, each run ending once its server has answered what wrk left in flight; "
            "the latency percentiles are the rounds' means)"
        )
        return lines

    def _request_line(self, key: str) -> str:
        """An operation's variables (the peer's too, if served) and statements per row."""
        op, peer = self.harness.operations[key], self.harness.peer
        theirs = ""
        if peer is not None:
            theirs = (
                f"; PostGraphile's `{peer_variables(peer, key)}`"
                if key in peer.requests
                else "; PostGraphile: none (it has no search or related pins of its own)"
            )
        counted = ", ".join(
            f"{ROWS[m.variant]} {m.statements}" for m in self.results if m.operation == key
        )
        return (
            f"- `{op.document}` ({key}): variables `{json.dumps(op.variables)}`{theirs}; "
            f"SQL statements of one request: {counted}"
        )

    def how_to_read(self) -> list[str]:
        """What each column means, the targets, the operations, the baseline's rows and the
        peer's."""
        a = self.args
        return [
            "- Numbers are ratios from one run on 2 cores shared by the server, PostgreSQL and "
            "wrk: compare rows of the same run, not runs. A ratio moves by about ±10% between "
            "runs; absolute req/s move more (this VM's CPU speed varies).",
            "- Operations: every query of `operations/` (LatestPins and NodeLookup included); "
            "the mutations are not benchmarked: they write, and the data set must stay as "
            "seeded. A row that answered few responses shows n= (under "
            f"{FEW_RESPONSES}) beside its req/s. A request still waiting 5 s "
            "for a pool connection fails with 503: during a round, an error of the row; left "
            "in flight when wrk stopped, it shows in the server log and in SQL/req (below "
            "the statements of one request), not in errors.",
            "- baseline rows (`--baseline REF`): the same requests sent to REF's code, served "
            "beside this commit's as described above; *this commit to the baseline* is this "
            "commit's req/s over the baseline's in the same run (above 1: this commit is "
            "faster). Its workers are metered as this commit's; the idle server's CPU counts "
            "under others.",
            "- errors: responses that were not HTTP 200 with `data` and no `errors`, plus "
            "socket errors; a row with any is marked ⚠ and its numbers do not count.",
            "- SQL/req: statements the workers' pool connections sent (asyncpg query "
            "loggers, bench/counters.py; `pg_stat_statements` is not preloaded on this "
            "PostgreSQL) divided by the requests the workers answered; the round-trip target "
            "uses one request counted alone (under *What was sent*).",
            "- CPU ms/req: utime+stime of the row's server's workers, and of the PostgreSQL "
            "backends serving them (their connections' ports), during the row's run, divided "
            "by its requests. "
            "others: CPU seconds per second spent by everything else (other processes, "
            "PostgreSQL's background processes, interrupts), wrk and the harness excluded: "
            "above ~0.2, someone else was using the machine.",
            "- RSS: the largest worker's resident memory at the end of the row.",
            f"- Targets (issue 6): req/s ≥ {MIN_RATIO}x the floor's; PostgreSQL CPU per "
            f"request no higher than the floor's (within {PG_CPU_TOLERANCE - 1:.0%}, the "
            f"noise of one run); at most {MAX_ROUND_TRIPS} SQL round trips per request; "
            f"p99 under {MAX_P99_OVER_P50:g}x p50 at {a.connections} connections. The floor "
            "runs the statements pinql's loaders run for the operation (the same SQL, "
            "batches and order, pinned by tests/bench/test_floor.py) straight on asyncpg and "
            "builds the same JSON with orjson.",
            *how_to_read_peer(self.harness.peer, self.harness.workers),
        ]


def _loads(loads: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in loads)


def markdown(reports: list[Report]) -> str:
    """docs/benchmarks.md without its soak section: each scale's results (largest first, as
    run), then, with several, how each operation's cost grows from the smallest to the
    largest."""
    first = reports[0]
    several = len(reports) > 1
    lines = [*first.header()]
    for report in reports:
        lines += report.conditions()
    lines.append("")
    if several:
        lines += ["## Results", ""]
    for report in reports:
        heading = f"### Scale {report.scale:g}" if several else "## Results"
        lines += report.results_section(heading)
    if several:
        lines += across_scales(reports)
    lines += ["## What was sent", ""]
    for report in reports:
        if several:
            lines += [f"At scale {report.scale:g}:", ""]
        lines += [*report.sent(), ""]
    lines += ["## How to read it", "", *first.how_to_read(), ""]
    return "\n".join(lines)


def across_scales(reports: list[Report]) -> list[str]:
    """Per operation and row: req/s and PostgreSQL CPU per request at each scale, and the
    CPU's growth from the smallest scale to the largest against MAX_SCALE_GROWTH."""
    ordered = sorted(reports, key=lambda r: r.scale)
    small, large = ordered[0], ordered[-1]
    scales = [f"scale {r.scale:g}" for r in ordered]
    lines = [
        "## Across scales",
        "",
        "| operation | sent as | "
        + " | ".join(f"req/s {s}" for s in scales)
        + " | "
        + " | ".join(f"PG CPU ms/req {s}" for s in scales)
        + f" | PG CPU {large.scale:g} ÷ {small.scale:g} | ≤ {MAX_SCALE_GROWTH}x |",
        "|---|---|" + "---:|" * (2 * len(ordered) + 1) + ":-:|",
    ]
    for key, operation in large.harness.operations.items():
        for variant in ("text", "hash", PEER, "floor"):
            found = [
                next((m for m in r.results if m.operation == key and m.variant == variant), None)
                for r in ordered
            ]
            if any(m is None for m in found):
                continue
            measured = [m for m in found if m is not None]
            growth = measured[-1].postgres_ms / max(measured[0].postgres_ms, 1e-9)
            lines.append(
                f"| {operation.name if variant == 'text' else ''} | {ROWS[variant]} | "
                + " | ".join(f"{m.wrk.requests_per_second:.0f}" for m in measured)
                + " | "
                + " | ".join(f"{m.postgres_ms:.2f}" for m in measured)
                + f" | {growth:.2f}x | {verdict(growth <= MAX_SCALE_GROWTH)} |"
            )
    return [*lines, ""]


def write_report(path: Path, reports: list[Report]) -> None:
    """Writes the reports to `path`, keeping the soak section it already holds."""
    soak = _section(path, SOAK_HEADING)
    path.write_text(markdown(reports) + ("\n" + soak if soak else ""))


def write_soak(path: Path, text: str) -> None:
    """Replaces (or appends) the soak section of `path`; `text` starts with SOAK_HEADING."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n"
    before, _, _ = existing.partition(SOAK_HEADING)
    path.write_text(before.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")


def _section(path: Path, heading: str) -> str:
    if not path.exists():
        return ""
    _, found, rest = path.read_text().partition(heading)
    return found + rest if found else ""
