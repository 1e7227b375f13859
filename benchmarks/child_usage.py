"""Run one command from a small parent and write what it cost: CPU time and peak RSS.

    python -S benchmarks/child_usage.py RESULT.json COMMAND [ARGS…]

A process started straight from the benchmark orchestrator would report the orchestrator's
memory as its own peak: Linux carries the resident size of the forking process into the
child's `ru_maxrss` when the child calls exec. Started from this tiny process instead, the
command's peak is its own. Its standard output is discarded; its standard error is kept.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(result: str, command: list[str]) -> int:
    """Run `command`, wait for it, write `{cpu, peak_rss_kib, wall, status}` to `result`."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_rss_kib": usage.ru_maxrss,
                "wall": wall,
                "status": code,
            },
            handle,
        )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
