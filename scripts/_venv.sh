# Sourced by scripts/serve and scripts/test: makes .venv match requirements.lock.
# Installs only when requirements.lock or pyproject.toml changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PINQL_PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "pinql needs Python >= 3.11 (set PINQL_PYTHON)" >&2; exit 1; }
    echo "creating $venv" >&2
    "$python" -m venv "$venv"
fi
stamp="$venv/.pinql-installed"
want="$(cat "$root/requirements.lock" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing dependencies from requirements.lock" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes -r "$root/requirements.lock"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-deps -e "$root"
    echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
