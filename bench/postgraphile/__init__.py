"""The benchmark's peer row: PostGraphile 4, what a team would pick instead of pinql, served
against the same database and sent an equivalent query per operation. It enforces no
privacy rules (the subjects are public objects; the queries state which rows a viewer may
see where a list would otherwise hold secret ones).

- `package.json`, `package-lock.json`: PostGraphile and its connection-filter plugin,
  installed by `install.py` (npm ci from the lock, only when it changed);
- `peer.sql`: the SQL objects it needs (the feed as a custom query), in schema
  `postgraphile_peer`;
- `queries/`: one document per operation of operations/ (`requests.py` sends them);
- `counters.cjs`: preloaded into its node processes, counts requests and statements as
  bench/counters.py does for pinql (`serving.py` starts it);
- `answers.py`: its answers in pinql's shape, to check that it fetches the same objects.
"""
