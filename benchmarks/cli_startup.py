"""Startup cost of `musicagent api`: process start to output, against a plain httpx script.

    python -m benchmarks.cli_startup [--runs N]

Target: `musicagent api database get-release 1 --json` within 2x the same request made by a
plain httpx script in a fresh process. Both run against the loopback sandbox with the cache
off, so each run sends one real request; the median of N runs is reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from discogs_sandbox import SANDBOX_TOKEN, Sandbox

PLAIN = (
    "import sys, httpx\n"
    "r = httpx.get(sys.argv[1] + '/releases/1', headers={'Authorization': 'Discogs token=' + "
    "sys.argv[2], 'User-Agent': 'bench'})\n"
    "r.raise_for_status()\n"
    "sys.stdout.write(r.text)\n"
)


def _median_seconds(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int) -> dict[str, float]:
    """Median seconds of the plain script and of the command, and their ratio."""
    script = str(Path(sys.executable).parent / "musicagent")
    with Sandbox(rate_limit=10_000) as sandbox, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DISCOGS_BASE_URL": sandbox.base_url,
            "DISCOGS_TOKEN": SANDBOX_TOKEN,
            "DISCOGS_CACHE": "off",
            "XDG_CACHE_HOME": tmp,
            "XDG_CONFIG_HOME": tmp,
        }
        plain = _median_seconds(
            [sys.executable, "-c", PLAIN, sandbox.base_url, SANDBOX_TOKEN], env, runs
        )
        command = _median_seconds(
            [script, "api", "database", "get-release", "1", "--json"], env, runs
        )
    return {"plain_httpx_s": plain, "musicagent_api_s": command, "ratio": command / plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.runs)
    print(
        f"plain httpx {result['plain_httpx_s']:.3f} s, musicagent api "
        f"{result['musicagent_api_s']:.3f} s: {result['ratio']:.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
