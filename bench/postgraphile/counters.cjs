// Preloaded into every PostGraphile process the benchmark serves (`node --require`): counts
// the HTTP requests it answered and the statements its pg clients sent (each
// `Client#query` call: one round trip), in the layout of bench/counters.py, so the harness
// meters PostGraphile as it meters pinql's workers.
//
// Contract: when PINQL_BENCH_COUNTERS names a directory, this process keeps
// `<directory>/<pid>.counters`, 16 bytes: requests answered, then statements sent, each a
// little-endian int64. The file exists (full length) from the process's start, so it also
// names the process (master or cluster worker) for its CPU time and RSS. Each count is
// written before what it counts leaves the process (a statement before it is sent, a
// request as its response ends), so a client that has an answer finds it counted.
'use strict';

const directory = process.env.PINQL_BENCH_COUNTERS;

if (directory) {
  const fs = require('node:fs');
  const http = require('node:http');
  const path = require('node:path');
  const pg = require('pg'); // the copy PostGraphile uses (bench/postgraphile/node_modules)

  const counts = Buffer.alloc(16);
  const partial = path.join(directory, `${process.pid}.partial`);
  const fd = fs.openSync(partial, 'w+');
  fs.writeSync(fd, counts, 0, counts.length, 0);
  fs.renameSync(partial, path.join(directory, `${process.pid}.counters`));

  let requests = 0;
  let statements = 0;
  const write = () => {
    counts.writeBigInt64LE(BigInt(requests), 0);
    counts.writeBigInt64LE(BigInt(statements), 8);
    fs.writeSync(fd, counts, 0, counts.length, 0);
  };

  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(...args) {
    statements += 1;
    write();
    return query.apply(this, args);
  };

  const end = http.ServerResponse.prototype.end;
  http.ServerResponse.prototype.end = function countedEnd(...args) {
    if (!this.writableEnded) {
      requests += 1;
      write();
    }
    return end.apply(this, args);
  };
}
