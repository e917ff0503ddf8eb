"""An explanation (execution/explain.py) as text for a terminal: a header saying whether the
operation is planned and why, its field tree (indented, with aligned columns: kind, wave,
where the value comes from, conditions), then each wave's loads and the SQL it sends."""

from __future__ import annotations

import re
import textwrap

from execution.explain import Explained, FieldExplained, Wave

WIDTH = 100
"""Characters a line of SQL takes at most."""
_SPACES = re.compile(r"\s+")
_INSIDE_PARENTHESES = re.compile(r"(?<=\() | (?=\))")


def one_line(sql: str) -> str:
    """`sql` on one line: its runs of spaces and newlines as one space."""
    return _INSIDE_PARENTHESES.sub("", _SPACES.sub(" ", sql)).strip()


def sql_lines(sql: str, indent: int) -> list[str]:
    """`sql` on lines of at most WIDTH characters, indented (the following ones further)."""
    return textwrap.wrap(
        one_line(sql),
        WIDTH,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + 2),
        break_on_hyphens=False,
    )


def render(explained: Explained) -> str:
    """The explanation as lines of text."""
    name = explained.operation or "(anonymous)"
    header = f"{name} ({explained.operation_type}): "
    if not explained.planned:
        detail = f" ({explained.detail})" if explained.detail else ""
        return f"{header}not planned, runs on graphql-core: {explained.reason}{detail}"
    lines = [
        f"{header}planned, {explained.size} plan nodes (at most {explained.budget})",
        "conditions: "
        + (", ".join(f"${c}" for c in explained.conditions) if explained.conditions else "none"),
        "",
        *_tree(explained),
        "",
        *_waves(explained),
    ]
    return "\n".join(lines)


def _tree(explained: Explained) -> list[str]:
    rows: list[tuple[str, str, str, str]] = []
    _rows(explained.fields, 0, rows)
    key_width = max(len(row[0]) for row in rows)
    kind_width = max(len("kind"), *(len(row[1]) for row in rows))
    lines = [f"{'field':<{key_width}}  {'kind':<{kind_width}}  wave  from"]
    for key, kind, wave, source in rows:
        lines.append(f"{key:<{key_width}}  {kind:<{kind_width}}  {wave:>4}  {source}".rstrip())
    return lines


def _rows(
    fields: tuple[FieldExplained, ...], depth: int, rows: list[tuple[str, str, str, str]]
) -> None:
    """Appends a row per field (key, kind, wave, from), its sub-selection indented below it,
    an interface's under a row per runtime type."""
    indent = "  " * depth
    for field in fields:
        label = field.key if field.key == field.name else f"{field.key}: {field.name}"
        wave = "-" if field.primed_by is not None else str(field.wave or "")
        rows.append((indent + label, field.kind, wave, _from(field)))
        _rows(field.fields, depth + 1, rows)
        for type_name, below in field.by_type.items():
            rows.append((f"{indent}  ... on {type_name}", "", "", ""))
            _rows(below, depth + 2, rows)


def _from(field: FieldExplained) -> str:
    text = field.source
    if field.primed_by is not None:
        text += f": known ({field.primed_by} brought it)"
    if field.coroutine:
        text += " (a coroutine)"
    if field.when:
        text += f"  [if {_condition(field)}]"
    return text


def _condition(field: FieldExplained) -> str:
    return " or ".join(
        " and ".join(f"${name}" if value else f"not ${name}" for name, value in literal.items())
        for literal in field.when
    )


def _waves(explained: Explained) -> list[str]:
    count = len(explained.waves)
    lines = [
        f"waves: {count}, so at most {count} round trip{'' if count == 1 else 's'} (a loader "
        "whose keys are all known sends nothing;",
        "what is below it then loads a wave earlier)",
    ]
    paths = [load.path for wave in explained.waves for load in wave.loads]
    paths += [load.path for load in explained.known]
    width = max(map(len, paths), default=0)
    for wave in explained.waves:
        lines += _wave(wave, width)
    if explained.known:
        lines.append("known, no statement")
        for load in explained.known:
            lines.append(
                f"  {load.path:<{width}}  {load.loader_class} ({load.primed_by} brought it)"
            )
    return lines


def _wave(wave: Wave, width: int) -> list[str]:
    count = len(wave.statements)
    sent = "1 statement" if count == 1 else f"{count} statements, sent as one"
    lines = [f"wave {wave.number}: {sent}"]
    for load in wave.loads:
        lines.append(f"  {load.path:<{width}}  {load.loader_class or load.function}")
    for statement in wave.statements:
        lines.append(f"  {statement.loader_class} (loaders.{statement.loader}):")
        lines += sql_lines(statement.sql, 4)
    return lines
