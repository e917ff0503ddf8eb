"""The baseline: another commit of this repository, checked out into a temporary git worktree,
for the benchmark to serve beside the current code (`python -m bench --baseline REF`).

The baseline is served as the current code is (bench/harness.py: the same uvicorn command,
settings and venv python), from its checkout: run there with the checkout first on
PYTHONPATH, Python imports the checkout's packages (`bench`, `server`, `schema`...), not
the current tree's that the venv's editable install points at (its finder comes after
sys.path). `verify_imports` checks that before anything is measured.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.counters import COUNTERS_ENV
from bench.processes import ROOT, VENV_BIN, run_checked

PACKAGES = ("bench", "db", "loaders", "resolvers", "schema", "server")
"""The repository's top-level packages: each must come from the checkout."""
# Prints where each of the packages named on the command line was imported from.
WHERE_IMPORTED = """
import importlib, json, sys
print(json.dumps({name: importlib.import_module(name).__file__ for name in sys.argv[1:]}))
"""


@dataclass(frozen=True, slots=True)
class Checkout:
    """A commit checked out into a temporary worktree."""

    ref: str
    """As given on the command line (`main`, `4ee972f`, `HEAD~3`)."""
    commit: str
    subject: str
    path: Path

    @property
    def environment(self) -> dict[str, str]:
        """What a process needs to import the checkout's packages (run in `path`)."""
        return {"PYTHONPATH": str(self.path)}


def _git(*arguments: str) -> str:
    return run_checked(["git", "-C", str(ROOT), *arguments]).strip()


def resolve(ref: str) -> str:
    """The commit `ref` names in this repository, or SystemExit."""
    if ref.startswith("-"):
        raise SystemExit(f"--baseline must name a commit, got {ref!r}")
    return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


@contextmanager
def checkout(ref: str) -> Iterator[Checkout]:
    """`ref` checked out (detached) into a temporary git worktree until the block ends,
    then removed (worktree and directory)."""
    commit = resolve(ref)
    subject = _git("show", "-s", "--format=%s", commit)
    parent = Path(tempfile.mkdtemp(prefix="pinql-baseline-"))
    path = parent / "tree"
    try:
        _git("worktree", "add", "--detach", "--quiet", str(path), commit)
        print(f"baseline: {ref} = {commit[:12]} checked out in {path}", flush=True)
        yield Checkout(ref, commit, subject, path)
    finally:
        if path.exists():
            _git("worktree", "remove", "--force", str(path))
        shutil.rmtree(parent, ignore_errors=True)
        _git("worktree", "prune")


def verify_imports(checkout: Checkout, env: Mapping[str, str]) -> dict[str, str]:
    """Where the venv python, run as the baseline server is (in the checkout, with `env`),
    imports each of PACKAGES from; SystemExit if any is not the checkout's, or if the
    checkout's benchmark app keeps no counters the harness can read."""
    counters = checkout.path / "bench" / "counters.py"
    if not counters.exists() or COUNTERS_ENV not in counters.read_text():
        raise SystemExit(
            f"--baseline {checkout.ref}: its bench/ keeps no {COUNTERS_ENV} counters, which "
            "the harness meters every server with: pick a later commit"
        )
    command = [str(VENV_BIN / "python"), "-c", WHERE_IMPORTED, *PACKAGES]
    found: dict[str, str] = json.loads(
        run_checked(command, {**os.environ, **env}, cwd=checkout.path)
    )
    strays = {
        name: file
        for name, file in found.items()
        if not Path(file).resolve().is_relative_to(checkout.path.resolve())
    }
    if strays:
        raise SystemExit(f"the baseline would import these from outside {checkout.path}: {strays}")
    return found
