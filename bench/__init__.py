"""The benchmark of issue 6: pinql against the floor and beside PostGraphile, in the same run,
one command.

    .venv/bin/python -m bench [--workers 1] [--duration 15] [--connections 32]
        [--operations feed,board,profile,pin,latest,nodes] [--baseline REF] [--no-peer]
        [--scale 10] [--write docs/benchmarks.md | --no-write]
    .venv/bin/python -m bench --soak 600      # the feed for 10 minutes, RSS per worker

Seeds the data set of --scale (10: 1M pins) into its database if absent (`pinql_bench`;
`pinql_bench_s1` for --scale 1, bench/dataset.py), registers operations/ for the web
client in Redis database 14, serves pinql plus the floor routes
with uvicorn (bench/app.py, bench/floor/), with --baseline, REF's code the same way
beside it (bench/baseline.py, Redis database 15), and unless --no-peer, PostGraphile 4
against the same database (bench/postgraphile/: the peer, enforcing no privacy rules),
checks that each operation answers the same data in each row (full text, by hash, each also
to the baseline, the floor, and the same objects from the peer), drives each row with wrk
(bench/wrk.py), one at a time, meters statements, CPU and RSS (bench/counters.py,
bench/meters.py), prints the table and writes docs/benchmarks.md (bench/report.py).
"""
