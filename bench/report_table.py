"""The benchmark's main table: one row per operation and way of sending it, with the issue's
targets as pass/fail columns, and what one measured row holds."""

from __future__ import annotations

from dataclasses import dataclass

from bench.meters import Usage
from bench.operations import PEER, ROWS
from bench.wrk import WrkResult

MIN_RATIO = 0.85
"""pinql's req/s at least this share of the floor's (issue 6)."""
PG_CPU_TOLERANCE = 1.10
"""PostgreSQL CPU per request may exceed the floor's by this factor: a run's noise."""
MAX_ROUND_TRIPS = 5
MAX_P99_OVER_P50 = 3.0
MAX_SCALE_GROWTH = 1.3
"""PostgreSQL CPU per request at the largest scale at most this times the smallest's (issue
16: an operation's cost must not grow with the data)."""
FEW_RESPONSES = 100
"""A row with fewer responses than this shows its count: its figures rest on few."""
PASS, FAIL, NONE = "pass", "**FAIL**", "—"
MIB = 2**20


@dataclass(frozen=True, slots=True)
class Measured:
    """One (operation, way of sending it) driven by wrk."""

    operation: str
    variant: str
    wrk: WrkResult
    usage: Usage
    statements: int
    """SQL statements of one request, counted alone before the load."""

    @property
    def server_ms(self) -> float:
        """Server workers' CPU milliseconds per request."""
        return self.usage.per_request_ms(self.usage.server_cpu)

    @property
    def postgres_ms(self) -> float:
        """PostgreSQL backends' CPU milliseconds per request."""
        return self.usage.per_request_ms(self.usage.postgres_cpu)


def verdict(ok: bool) -> str:
    """pass, or FAIL in bold."""
    return PASS if ok else FAIL


HEADER = (
    "| operation | sent as | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/req "
    "| server CPU ms/req | PG CPU ms/req | RSS MiB/worker | others (cores) | x floor "
    f"| ≥ {MIN_RATIO}x floor | PG CPU ≤ floor | ≤ {MAX_ROUND_TRIPS} round trips "
    f"| p99 < {MAX_P99_OVER_P50:g}x p50 |"
)
ALIGN = "|---|---|" + "---:|" * 11 + ":-:|" * 4


def row(m: Measured, floor: Measured | None, document: str) -> str:
    """One row of the table: `m` measured, beside its operation's `floor`."""
    w, u = m.wrk, m.usage
    errors = f"**{w.errors}** ⚠" if w.errors else "0"
    name = f"{m.operation} ({document})" if m.variant == "text" else ""
    if w.errors:
        name = f"⚠ {name or m.operation}"
    rate = f"{w.requests_per_second:.0f}"
    if w.requests < FEW_RESPONSES:
        rate = f"{w.requests_per_second:.1f} (n={w.requests})"
    cells = [
        name,
        ROWS[m.variant],
        rate,
        f"{w.p50_ms:.1f}",
        f"{w.p95_ms:.1f}",
        f"{w.p99_ms:.1f}",
        errors,
        f"{u.statements_per_request:.2f}",
        f"{m.server_ms:.2f}",
        f"{m.postgres_ms:.2f}",
        f"{max(u.rss.values(), default=0) / MIB:.0f}",
        f"{max(u.other_cpu, 0.0) / u.seconds:.2f}",
    ]
    if m.variant == "floor" or floor is None or floor.wrk.requests_per_second == 0:
        cells += ["1.00x" if m.variant == "floor" else "n/a", NONE, NONE, NONE, NONE]
    elif m.variant == PEER:  # pinql's targets: the peer's ratio to the floor only
        ratio = w.requests_per_second / floor.wrk.requests_per_second
        cells += [f"{ratio:.2f}x", NONE, NONE, NONE, NONE]
    else:
        ratio = w.requests_per_second / floor.wrk.requests_per_second
        cells += [
            f"{ratio:.2f}x",
            verdict(ratio >= MIN_RATIO),
            verdict(m.postgres_ms <= floor.postgres_ms * PG_CPU_TOLERANCE),
            verdict(m.statements <= MAX_ROUND_TRIPS),
            verdict(w.p99_ms < MAX_P99_OVER_P50 * w.p50_ms),
        ]
    return "| " + " | ".join(cells) + " |"
