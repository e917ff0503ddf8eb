# Sourced by scripts/test: makes each npm package directory's node_modules match its
# package-lock.json: tests/http_audit (graphql-http, for tests/server/test_graphql_http_audit.py)
# and bench/postgraphile (the benchmark's peer, PostGraphile 4, for tests/bench; `python -m
# bench` installs it the same way, bench/postgraphile/install.py). Installs only when the lock
# changed since the last install (a stamp in node_modules holds the lock's SHA-256).
set -euo pipefail
npm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v npm >/dev/null \
    || { echo "the GraphQL-over-HTTP audit and the benchmark's peer need Node.js >= 18 with npm on PATH" >&2; exit 1; }
for npm_dir in tests/http_audit bench/postgraphile; do
    npm_stamp="$npm_root/$npm_dir/node_modules/.pinql-installed"
    npm_want="$(sha256sum "$npm_root/$npm_dir/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
        echo "installing $npm_dir from package-lock.json" >&2
        (cd "$npm_root/$npm_dir" && npm ci --no-audit --no-fund --silent)
        echo "$npm_want" > "$npm_stamp"
    fi
done
