"""Installs the peer's npm packages (bench/postgraphile/node_modules) from its
package-lock.json, as scripts/_npm.sh installs tests/http_audit: `npm ci`, only when the lock
changed since the last install (a stamp file holds the lock's SHA-256)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from bench.processes import run_checked

PACKAGE_DIR = Path(__file__).resolve().parent
LOCK = PACKAGE_DIR / "package-lock.json"
STAMP = PACKAGE_DIR / "node_modules" / ".pinql-installed"
"""Written by scripts/_npm.sh too: the SHA-256 of the lock last installed."""
NO_NODE = (
    "the PostGraphile peer row needs Node.js >= 18 with npm on PATH (apt-get install nodejs "
    "npm); or leave the peer out: python -m bench --no-peer"
)


def node() -> str:
    """The path of `node`, or SystemExit saying how to do without the peer."""
    found = shutil.which("node")
    if found is None or shutil.which("npm") is None:
        raise SystemExit(NO_NODE)
    return found


def ensure_installed() -> str:
    """Installs the packages if the lock changed since the last install; `node`'s path."""
    executable = node()
    wanted = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    stamped = STAMP.read_text().strip() if STAMP.exists() else None
    if stamped != wanted:
        print("installing bench/postgraphile from package-lock.json", flush=True)
        run_checked(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=PACKAGE_DIR)
        STAMP.write_text(wanted + "\n")
    return executable


def version(package: str = "postgraphile") -> str:
    """The installed version of `package`."""
    manifest = PACKAGE_DIR / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text())["version"])
