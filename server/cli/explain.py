"""`pinql operations explain FILE`: what the engine makes of one operation of a `.graphql`
file (execution/explain.py), the file prepared with the server's limits; with `--run`, what
running it on the database through the app's path did: how it ran, its errors, and each round
trip's statement, parameter count and time. Queries only: it never writes."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from graphql import GraphQLError, OperationDefinitionNode, OperationType

from db.errors import DatabaseLoginRefused
from db.waves import PARAMETER
from execution.documents import PreparedDocument
from execution.explain import explain, loaders_in
from execution.explain_text import WIDTH, one_line, render, sql_lines
from execution.run import Runs
from schema.build import build_schema
from server.app import connect_database, plan_cache, preparer
from server.cli.common import bad_input, fail, load_settings
from server.database_url import database_target
from server.persisted.folder import FolderError, document_of
from server.settings import Settings

SHORT_SQL = 94
"""Characters of a statement shown without --full."""
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number"}


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One statement a run sent (a wave's statements go as one)."""

    sql: str
    loaders: tuple[str, ...]
    """The loader classes whose statements it holds (execution/explain.py's loaders_in)."""
    parameters: int
    """The highest `$n` of its text."""
    seconds: float
    error: str | None
    """The statement's failure, if it failed."""


@dataclass(frozen=True, slots=True)
class Ran:
    """What running an operation once did."""

    viewer: int | None
    execution: str
    """execution/run.py's Outcome.execution: fast, graphql or fallback."""
    reason: str
    errors: tuple[str, ...]
    """The answer's errors: path, message and code."""
    round_trips: tuple[RoundTrip, ...]


def operations_explain(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, metavar="FILE", help="A .graphql file (a document)."
        ),
    ],
    operation: Annotated[
        str | None,
        typer.Option("--operation", metavar="NAME", help="The operation, when FILE has several."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for tools.")] = False,
    run: Annotated[
        bool,
        typer.Option(
            "--run", help="Also run it on the database (queries only) and show each round trip."
        ),
    ] = False,
    variables: Annotated[
        str | None,
        typer.Option("--variables", metavar="JSON", help="--run: the variables, a JSON object."),
    ] = None,
    viewer: Annotated[
        int | None,
        typer.Option("--viewer", min=1, metavar="USER_ID", help="--run: as this user."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="--run: each statement's whole SQL.")
    ] = False,
) -> None:
    """Show what the engine makes of an operation: planned or not and why, where each field
    comes from, its waves and the SQL each sends; --run runs it and shows each round trip."""
    settings = load_settings()
    if not run and (variables is not None or viewer is not None or full):
        raise bad_input("--variables, --viewer and --full go with --run")
    given = _variables(variables) if variables is not None else None
    prepared = preparer(settings)(_read(file))
    if not prepared.valid:
        raise bad_input(_refused(file, prepared.errors))
    chosen = _operation(file, prepared, operation)
    if run and chosen.operation is not OperationType.QUERY:
        name = chosen.name.value if chosen.name else "the operation"
        raise bad_input(
            f"--run runs queries only (it never writes): {name} is a {chosen.operation.value}"
        )
    schema = build_schema()._schema
    with _collections_paused():
        explained = explain(
            schema,
            prepared,
            chosen,
            max_plan_nodes=settings.max_plan_nodes,
            max_plan_seconds=settings.max_plan_ms / 1000,
            fast_path=settings.fast_path,
        )
    ran = _run(settings, prepared, chosen, given, viewer) if run else None
    if as_json:
        found = explained.as_json()
        if ran is not None:
            found["run"] = asdict(ran)
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(render(explained))
    if ran is not None:
        typer.echo(f"\n{_ran_text(ran, full=full)}")


@contextmanager
def _collections_paused() -> Iterator[None]:
    """No garbage collection in the block. A server's workers freeze what they built at
    startup (PINQL_GC_TUNING): a full collection of this process's heap, tens of ms, would
    otherwise count against the planning time budget, and explain `time` where a server
    plans."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(file: Path) -> str:
    """FILE's document: its text, with the fragments it uses from the other .graphql files
    of its folder (a folder is one document set, as for `operations register`)."""
    try:
        file.read_text(encoding="utf-8")
        return document_of(file)
    except FolderError as exc:
        raise bad_input(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise bad_input(f"{file} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except OSError as exc:
        raise bad_input(f"cannot read {file}: {exc.strerror}") from None


def _refused(file: Path, errors: tuple[GraphQLError, ...]) -> str:
    """Why the server refuses the document: each error's code, message and place."""
    lines = [f"{file} is refused, as the server would refuse it:"]
    for error in errors:
        code = (error.extensions or {}).get("code", "")
        where = ", ".join(f"line {at.line} column {at.column}" for at in error.locations or ())
        lines.append(f"  {code}: {error.message}" + (f" ({where})" if where else ""))
    return "\n".join(lines)


def _operation(file: Path, prepared: PreparedDocument, name: str | None) -> OperationDefinitionNode:
    """The operation named, or the only one; exits 2 saying why there is none."""
    assert prepared.document is not None
    operations = [
        d for d in prepared.document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    names = ", ".join(o.name.value if o.name else "(anonymous)" for o in operations)
    if name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise bad_input(f"{file} holds no operation (only fragments)")
        raise bad_input(
            f"{file} holds {len(operations)} operations ({names}): name one with --operation"
        )
    for found in operations:
        if found.name is not None and found.name.value == name:
            return found
    raise bad_input(f"{file} has no operation named {name!r} (it holds: {names})")


def _variables(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_input(f"--variables is not valid JSON: {exc}") from None
    if not isinstance(found, dict):
        kind = "null" if found is None else _JSON_TYPES.get(type(found), "a boolean")
        raise bad_input(f'--variables must be a JSON object ({{"name": value}}), got {kind}')
    return found


def _run(
    settings: Settings,
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    viewer: int | None,
) -> Ran:
    """Runs the query once as the app runs it, on a pool of its own, hearing each statement
    its session sends."""

    async def run(url: str) -> Ran:
        database = await connect_database(url, settings)
        trips: list[RoundTrip] = []

        def heard(sql: str, seconds: float, error: BaseException | None) -> None:
            failure = None if error is None else f"{type(error).__name__}: {error}"
            trips.append(RoundTrip(sql, loaders_in(sql), _parameters(sql), seconds, failure))

        try:
            session = database.session(heard)
            try:
                runs = Runs(plan_cache(settings), settings.search_ranking)
                outcome = await runs.run(prepared, operation, variables, session, viewer)
            finally:
                await session.close()
        finally:
            await database.close()
        errors = tuple(_error(error) for error in outcome.result.errors or ())
        return Ran(viewer, outcome.execution, outcome.reason, errors, tuple(trips))

    # The pool logs an outage as the server sees it ("starting anyway"); here the answer's
    # error reports it instead.
    pool_log = logging.getLogger("pinql.db")
    was_disabled, pool_log.disabled = pool_log.disabled, True
    try:
        with database_target(settings) as target:
            return asyncio.run(run(target.url))
    except DatabaseLoginRefused as exc:
        raise fail(f"cannot run: {exc}") from None
    finally:
        pool_log.disabled = was_disabled


def _parameters(sql: str) -> int:
    return max((int(n) for n in PARAMETER.findall(sql)), default=0)


def _error(error: GraphQLError) -> str:
    path = ".".join(map(str, error.path)) if error.path else "(request)"
    code = (error.extensions or {}).get("code")
    return f"{path}: {error.message}" + (f" ({code})" if code else "")


def _ran_text(ran: Ran, *, full: bool) -> str:
    """What a run did, as text: how it ran, its errors, then a line per round trip (with
    its whole SQL below it when `full`)."""
    who = f"as viewer {ran.viewer}" if ran.viewer is not None else "anonymously"
    errors = (
        f"{len(ran.errors)} error{'' if len(ran.errors) == 1 else 's'}"
        if ran.errors
        else "no errors"
    )
    lines = [f"ran {who}: execution {ran.execution} ({ran.reason}), {errors}"]
    lines += [f"  {error}" for error in ran.errors]
    count = len(ran.round_trips)
    total = sum(trip.seconds for trip in ran.round_trips) * 1000
    lines.append(f"{count} round trip{'' if count == 1 else 's'}, {total:.1f} ms of SQL")
    for number, trip in enumerate(ran.round_trips, 1):
        parameters = f"{trip.parameters} parameter{'' if trip.parameters == 1 else 's'}"
        head = f"  {number:>2}  {trip.seconds * 1000:7.2f} ms  {parameters:>13}  "
        sent = " + ".join(trip.loaders) or "(no loader's statement)"
        lines += textwrap.wrap(sent, WIDTH, initial_indent=head, subsequent_indent=" " * len(head))
        if full:
            lines += sql_lines(trip.sql, 6)
        else:
            sql = one_line(trip.sql)
            lines.append(f"      {sql if len(sql) <= SHORT_SQL else sql[: SHORT_SQL - 1] + '…'}")
        if trip.error is not None:
            lines.append(f"      failed: {trip.error}")
    return "\n".join(lines)
