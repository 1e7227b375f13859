"""Side-by-side benchmarks of musicagent and other Python clients for Discogs, on the sandbox.

``make bench`` installs the peers (the ``bench`` extra: python3-discogs-client and discogs-sdk)
into a separate environment, ``.venv-bench``, and runs ``python -m benchmarks.run``, which
prints the results and writes ``benchmarks/results.md``. Every client talks to the local
sandbox (`musicagent.testing.Sandbox`) on 127.0.0.1 and runs in a process of its own; the
sandbox counts the requests and the 429s.

    make bench                                   # everything, the real rule: ≈ 25 minutes
    make bench BENCH_ARGS=--quick                # smoke run (rule scaled to 10 per 1 s)
    make bench BENCH_ARGS="--only crawl,requests"

Scenarios (``--only``): ``crawl``, ``crawl-preset``, ``crawl-shared`` (or ``crawls``),
``requests``, ``overhead``, ``parsing``, ``export``, ``export-cli`` (the real
``musicagent export`` over HTTP beside an httpx + orjson floor), ``cache``, ``cache-cpu``.
``--clients`` picks clients.
``benchmarks/export_scale.py`` also runs alone (see its docstring).
"""
