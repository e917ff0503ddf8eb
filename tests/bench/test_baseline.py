"""The baseline's checkout (bench/baseline.py): a commit in a temporary git worktree, removed
afterwards, whose packages a process run as the baseline server imports, not the current
tree's."""

from __future__ import annotations

import shutil

import pytest

from bench.baseline import PACKAGES, checkout, resolve, verify_imports
from bench.processes import ROOT, run_checked


def _worktrees() -> str:
    return run_checked(["git", "-C", str(ROOT), "worktree", "list", "--porcelain"])


def test_a_commit_is_checked_out_for_the_block_and_removed_after() -> None:
    head = resolve("HEAD")

    with checkout("HEAD") as tree:
        assert (tree.ref, tree.commit) == ("HEAD", head)
        assert run_checked(["git", "-C", str(tree.path), "rev-parse", "HEAD"]).strip() == head
        assert (tree.path / "operations" / "NodeLookup.graphql").exists()
        assert f"worktree {tree.path}\n" in _worktrees()
        assert tree.subject

    assert not tree.path.exists()
    assert not tree.path.parent.exists()
    assert str(tree.path) not in _worktrees()


def test_the_baseline_imports_every_package_from_its_checkout() -> None:
    with checkout("HEAD") as tree:
        imported = verify_imports(tree, tree.environment)

    assert set(imported) == set(PACKAGES)
    for file in imported.values():
        assert file.startswith(f"{tree.path}/"), imported


def test_a_package_missing_from_the_checkout_would_come_from_elsewhere() -> None:
    with checkout("HEAD") as tree:
        shutil.rmtree(tree.path / "schema")  # the venv's editable install still finds one
        with pytest.raises(SystemExit, match="would import these from outside"):
            verify_imports(tree, tree.environment)


def test_a_checkout_whose_app_keeps_no_counters_cannot_be_metered() -> None:
    with checkout("HEAD") as tree:
        (tree.path / "bench" / "counters.py").write_text('"""No counters here."""\n')
        with pytest.raises(SystemExit, match="keeps no PINQL_BENCH_COUNTERS counters"):
            verify_imports(tree, tree.environment)


@pytest.mark.parametrize("ref", ["no-such-branch", "--all", "HEAD:bench"])
def test_a_ref_that_names_no_commit_is_refused(ref: str) -> None:
    with pytest.raises(SystemExit):
        resolve(ref)
