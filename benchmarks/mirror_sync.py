"""The account mirror against its targets, on the sandbox under the run's rate rule.

    python -m benchmarks.mirror_sync [--items N] [--limit L] [--window S]
    python -m benchmarks.run --only mirror          # the same, at the real rule (60 per 60 s)

A full sync with release hydration of an N-item collection and its wantlist (N/3 items), by the
default sync client: the requests sent against ⌈N/100⌉ + ⌈W/100⌉ + distinct releases, the time
from the first request to the end against the fastest schedule the rule allows for those
requests (the first L at once, then each when the oldest leaves the window), the 429s the
sandbox counted; then an unchanged re-sync (target: ≤ 2 requests per list synced).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.profiles import FULL, Profile
from benchmarks.report import Section, Target
from discogs_sandbox import Sandbox
from musicagent.mirror import Mirror
from musicagent.ratelimit import RateLimiter

__all__ = ["MirrorRun", "fastest", "measure", "mirror_section"]


def fastest(requests: int, limit: int, window: float) -> float:
    """Seconds from the first to the last request when each waits only for the rule."""
    return ((requests - 1) // limit) * window if requests > 0 else 0.0


@dataclass(frozen=True)
class MirrorRun:
    """What one measured full sync and its unchanged re-sync did."""

    items: int
    wants: int
    requests: int
    bound: int
    seconds: float
    best: float
    status_429: int
    resync_requests: int
    resync_lists: int

    @property
    def ratio(self) -> float:
        return self.seconds / self.best if self.best else 1.0


def measure(items: int, limit: int, window: float, margin: float | None = None) -> MirrorRun:
    """One full sync with hydration and one unchanged re-sync, on a fresh sandbox."""
    wants = max(1, items // 3)
    RateLimiter.reset_shared()
    with (
        Sandbox(
            collection_size=items, wantlist_size=wants, rate_limit=limit, rate_window=window
        ) as sandbox,
        tempfile.TemporaryDirectory() as folder,
    ):
        options: dict[str, Any] = {}
        if margin is not None:
            options["rate_limiter"] = RateLimiter(limit, window, margin=margin)
        client = sandbox.client(**options)
        try:
            with Mirror(client, Path(folder) / "mirror.db") as mirror:
                started = time.monotonic()
                report = mirror.sync("sandbox", hydrate="releases")
                seconds = time.monotonic() - started
                distinct = mirror.query(
                    "SELECT count(*) AS n FROM (SELECT release_id FROM collection_items "
                    "UNION SELECT release_id FROM wants)"
                )[0]["n"]
                status_429 = int(sandbox.stats()["status_429"])
                again = mirror.sync("sandbox")
        finally:
            client.close()
    return MirrorRun(
        items=items,
        wants=wants,
        requests=report.requests,
        bound=math.ceil(items / 100) + math.ceil(wants / 100) + int(distinct),
        seconds=seconds,
        best=fastest(report.requests, limit, window),
        status_429=status_429,
        resync_requests=again.requests,
        resync_lists=len(again.lists),
    )


def mirror_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """The mirror's targets as a results section (musicagent only: no peer keeps a mirror)."""
    run = measure(
        profile.mirror_items, profile.rate_limit, profile.rate_window, profile.limiter_margin
    )
    log(f"  mirror: {run.requests} requests in {run.seconds:.1f} s ({run.ratio:.3f}× fastest)")
    per_list = run.resync_requests / max(run.resync_lists, 1)
    return Section(
        key="mirror",
        title="Account mirror: full sync with hydration, then an unchanged re-sync",
        intro=(
            f'`Mirror.sync(hydrate="releases")` of a {run.items}-item collection and a '
            f"{run.wants}-item wantlist on the sandbox at {profile.rate_limit} requests per "
            f"{profile.rate_window:g} s, the default sync client. The fastest time is the "
            "schedule the rule allows for the requests sent: the first "
            f"{profile.rate_limit} at once, then each as the oldest leaves the window."
        ),
        headers=["measure", "musicagent", "bound", "status"],
        rows=[
            ["requests", str(run.requests), f"≤ {run.bound}", _held(run.requests <= run.bound)],
            [
                "time",
                f"{run.seconds:.1f} s",
                f"≤ 1.02 × {run.best:.1f} s",
                _held(run.ratio <= 1.02),
            ],
            ["429 answers", str(run.status_429), "0", _held(run.status_429 == 0)],
            [
                "unchanged re-sync",
                f"{run.resync_requests} requests, {run.resync_lists} lists",
                "≤ 2 per list",
                _held(per_list <= 2),
            ],
        ],
        targets=[
            Target(
                "mirror: requests ≤ ⌈N/100⌉ + ⌈W/100⌉ + distinct releases",
                run.requests <= run.bound,
                f"{run.requests} (bound {run.bound})",
            ),
            Target(
                "mirror: time ≤ 1.02× the fastest schedule",
                run.ratio <= 1.02,
                f"{run.seconds:.1f} s ({run.ratio:.3f}× {run.best:.1f} s)",
            ),
            Target("mirror: zero 429s", run.status_429 == 0, str(run.status_429)),
            Target(
                "mirror: unchanged re-sync ≤ 2 requests per list",
                per_list <= 2,
                f"{run.resync_requests} for {run.resync_lists} lists",
            ),
        ],
    )


def _held(ok: bool) -> str:
    return "held" if ok else "not held"


def main(argv: list[str] | None = None) -> None:
    """Run the measurement and print one line per target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=FULL.mirror_items)
    parser.add_argument("--limit", type=int, default=FULL.rate_limit)
    parser.add_argument("--window", type=float, default=FULL.rate_window)
    args = parser.parse_args(argv)
    run = measure(args.items, args.limit, args.window)
    print(f"full sync + hydration: {run.requests} requests (bound {run.bound})")
    print(
        f"time {run.seconds:.2f} s, fastest the rule allows {run.best:.2f} s, ratio {run.ratio:.3f}"
    )
    print(f"429s: {run.status_429}")
    print(f"unchanged re-sync: {run.resync_requests} requests for {run.resync_lists} lists")


if __name__ == "__main__":
    main()
