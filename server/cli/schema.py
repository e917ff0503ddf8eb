"""`pinql schema export` and `schema check`: the schema.graphql contract, the registered
operations that depend on it, and breaking changes since an earlier schema."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from graphql import GraphQLSchema, find_breaking_changes, find_dangerous_changes
from graphql import build_schema as build_sdl_schema

from schema.build import build_schema, print_schema
from server.app import preparer
from server.cli.common import bad_input, load_settings
from server.cli.operations import with_store
from server.persisted.manifest import broken_operations, short_id
from server.persisted.store import StoreUnavailable
from server.settings import Settings

app = typer.Typer(help="The schema.graphql contract.", no_args_is_help=True)

SCHEMA_FILE = Path("schema.graphql")


@app.command("export")
def schema_export(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = SCHEMA_FILE,
) -> None:
    """Write the schema, as SDL, to schema.graphql."""
    path.write_text(print_schema())
    typer.echo(f"wrote {path}")


@app.command("check")
def schema_check(
    path: Annotated[Path, typer.Option(help="The committed SDL.")] = SCHEMA_FILE,
    base: Annotated[
        str | None,
        typer.Option(
            metavar="FILE_OR_GIT_REF",
            help="An earlier schema to compare with: an SDL file, or a git ref whose "
            "schema.graphql to read (e.g. origin/main). Breaking changes fail the check.",
        ),
    ] = None,
) -> None:
    """Exit 1 when schema.graphql differs from the code, when a registered operation no
    longer validates, or (with --base) when a change since BASE breaks clients."""
    settings = load_settings()
    earlier = None if base is None else (base, _base_schema(base, path))
    ok = True
    committed = path.read_text() if path.exists() else ""
    diff = schema_diff(committed, print_schema(), str(path))
    if diff:
        typer.echo(diff, nl=False)
        typer.echo(f"{path} is out of date: run `pinql schema export`", err=True)
        ok = False
    else:
        typer.echo(f"{path} is up to date")
    if earlier is not None:
        ok = _report_changes(*earlier) and ok
    ok = _check_registrations(settings) and ok
    if not ok:
        raise typer.Exit(1)


def _base_schema(base: str, path: Path) -> GraphQLSchema:
    """The schema in the SDL file `base`, else in `path` at git ref `base`; exit 2 if neither."""
    if Path(base).is_file():
        sdl, origin = Path(base).read_text(), base
    else:
        if base.startswith("-"):
            raise bad_input(f"--base must be an SDL file or a git ref, got {base!r}")
        if path.is_absolute():
            raise bad_input(f"--base with a git ref needs a relative --path, got {path}")
        origin = f"{base}:./{path.as_posix()}"
        try:
            shown = subprocess.run(  # noqa: S603 (argv list, no shell)
                ["git", "show", origin],  # noqa: S607 (git from PATH)
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise bad_input(f"--base {base!r} is not a file, and git cannot run: {exc}") from None
        if shown.returncode != 0:
            raise bad_input(
                f"--base {base!r} is not a file, and git cannot read {origin}: "
                + shown.stderr.strip()
            )
        sdl = shown.stdout
    try:
        return build_sdl_schema(sdl)
    except Exception as exc:  # graphql-core raises GraphQLError, TypeError or ValueError
        raise bad_input(f"the base schema ({origin}) is not valid SDL: {exc}") from None


def _report_changes(base: str, base_schema: GraphQLSchema) -> bool:
    """Prints the breaking and dangerous changes from `base_schema` to the code's; False when
    any is breaking."""
    current = build_schema()._schema
    breaking = find_breaking_changes(base_schema, current)
    dangerous = find_dangerous_changes(base_schema, current)
    for kind, changes in (("BREAKING", breaking), ("DANGEROUS", dangerous)):
        for change in changes:
            typer.echo(f"{kind} {change.type.name}: {change.description}")
    if breaking:
        typer.echo(
            f"{len(breaking)} breaking change(s) since {base}: existing clients may fail",
            err=True,
        )
        return False
    if dangerous:
        typer.echo(
            f"no breaking changes since {base}; {len(dangerous)} dangerous change(s) above "
            "(warnings, not failures)"
        )
    else:
        typer.echo(f"no breaking or dangerous changes since {base}")
    return True


def _check_registrations(settings: Settings) -> bool:
    """Validates every registered operation of every client against the code's schema and
    prints the ones it refuses; False when any is refused or the store does not answer."""
    try:
        registrations, where = with_store(settings, lambda store: store.registrations())
    except StoreUnavailable as exc:
        typer.echo(f"cannot check the registered operations: {exc}", err=True)
        return False
    total = sum(len(r.documents) for r in registrations)
    if not total:
        typer.echo(f"no registered operations to check ({where})")
        return True
    broken = broken_operations(registrations, preparer(settings))
    for op in broken:
        name = op.document.name or "(anonymous)"
        for error in op.errors:
            typer.echo(
                f"client {op.client}, operation {name} (version {op.version}, "
                f"id {short_id(op.document.id)}): {error}",
                err=True,
            )
    if broken:
        typer.echo(
            f"{len(broken)} of {total} registered operations no longer validate ({where})",
            err=True,
        )
        return False
    typer.echo(f"all {total} registered operations validate ({where})")
    return True


def schema_diff(committed: str, current: str, name: str = "schema.graphql") -> str:
    """A unified diff from the committed SDL to the code's; empty when they match."""
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            current.splitlines(keepends=True),
            fromfile=f"{name} (committed)",
            tofile=f"{name} (from the code)",
        )
    )
