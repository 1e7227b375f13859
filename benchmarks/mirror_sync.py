"""The account mirror against its targets, on the sandbox under a scaled rate rule.

    python -m benchmarks.mirror_sync [--items N] [--wants N] [--limit L] [--window S]

Measures a full sync with release hydration of an N-item collection and its wantlist: the
requests sent against ⌈N/100⌉ + ⌈W/100⌉ + distinct releases, the time against the fastest
schedule the rule allows for those requests (the first L at once, then one per window / L
after the oldest leaves the window), the 429s the sandbox counted; then an unchanged re-sync
(target: ≤ 2 requests per list).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from discogs_sandbox import Sandbox
from musicagent.mirror import Mirror
from musicagent.ratelimit import RateLimiter


def fastest(requests: int, limit: int, window: float) -> float:
    """Seconds from the first to the last request when each waits only for the rule."""
    return ((requests - 1) // limit) * window if requests > 0 else 0.0


def main(argv: list[str] | None = None) -> None:
    """Run the measurement and print one line per target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--wants", type=int, default=300)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--window", type=float, default=1.0)
    args = parser.parse_args(argv)
    RateLimiter.reset_shared()
    with (
        Sandbox(
            collection_size=args.items,
            wantlist_size=args.wants,
            rate_limit=args.limit,
            rate_window=args.window,
        ) as sandbox,
        tempfile.TemporaryDirectory() as folder,
    ):
        client = sandbox.client()
        with Mirror(client, Path(folder) / "mirror.db") as mirror:
            started = time.monotonic()
            report = mirror.sync("sandbox", hydrate="releases")
            elapsed = time.monotonic() - started
            distinct = mirror.query(
                "SELECT count(*) AS n FROM (SELECT release_id FROM collection_items "
                "UNION SELECT release_id FROM wants)"
            )[0]["n"]
            bound = math.ceil(args.items / 100) + math.ceil(args.wants / 100) + distinct
            best = fastest(report.requests, args.limit, args.window)
            print(f"full sync + hydration: {report.requests} requests (bound {bound})")
            print(
                f"time {elapsed:.2f} s, fastest the rule allows {best:.2f} s, "
                f"ratio {elapsed / best if best else float('nan'):.3f}"
            )
            print(f"429s: {sandbox.stats()['status_429']}")
            again = mirror.sync("sandbox")
            print(f"unchanged re-sync: {again.requests} requests for {len(again.lists)} lists")
        client.close()


if __name__ == "__main__":
    main()
