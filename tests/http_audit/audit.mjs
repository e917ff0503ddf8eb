// Runs graphql-http's GraphQL-over-HTTP server audits against a live server and prints the
// results as one JSON array of {id, name, status, reason} on stdout; the pytest test judges
// them (tests/server/test_graphql_http_audit.py). Usage: node audit.mjs URL
//
// auditServer() is `Promise.all(serverAudits(opts).map((a) => a.fn()))`, which rejects as a
// whole when one audit throws something other than an audit failure (a refused connection, a
// timeout). This runs the same audits but turns such a throw into that audit's 'error', so
// one crash cannot hide the other results.
import { serverAudits } from 'graphql-http';

const REQUEST_TIMEOUT_MS = 10_000;

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

// Node's global fetch, with a bound on each request so a hanging server fails one audit.
const fetchFn = (input, init) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

const results = await Promise.all(
  serverAudits({ url, fetchFn }).map(async ({ id, name, fn }) => {
    try {
      const { status, reason } = await fn();
      return { id, name, status, reason: reason ?? null };
    } catch (err) {
      const cause = err?.cause ? ` (${err.cause})` : '';
      return { id, name, status: 'error', reason: `audit threw: ${err}${cause}` };
    }
  }),
);

process.stdout.write(JSON.stringify(results) + '\n');
