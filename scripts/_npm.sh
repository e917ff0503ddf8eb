# Sourced by scripts/test: makes tests/http_audit/node_modules match its package-lock.json
# (graphql-http, for tests/server/test_graphql_http_audit.py). Installs only when the lock
# changed since the last install.
set -euo pipefail
audit_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/http_audit"
command -v npm >/dev/null \
    || { echo "the GraphQL-over-HTTP audit needs Node.js >= 18 with npm on PATH" >&2; exit 1; }
npm_stamp="$audit_dir/node_modules/.pinql-installed"
npm_want="$(sha256sum "$audit_dir/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
    echo "installing tests/http_audit from package-lock.json" >&2
    (cd "$audit_dir" && npm ci --no-audit --no-fund --silent)
    echo "$npm_want" > "$npm_stamp"
fi
