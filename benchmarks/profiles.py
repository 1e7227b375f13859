"""The sizes of a benchmark run: the real Discogs rule (full) or a scaled-down smoke run (quick)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FULL", "QUICK", "Profile"]


@dataclass(frozen=True)
class Profile:
    """Every size a run uses.

    Attributes:
        name: ``full`` or ``quick``.
        rate_limit: requests allowed per moving window in the crawls.
        rate_window: the window, in seconds.
        crawl_requests: N, the requests of one crawl job.
        preset_used: budget another program spent before the "half budget" crawl.
        limiter_margin: musicagent's ``DISCOGS_RATE_LIMIT_MARGIN`` in the crawls (None: its
            default, 0.25 s, made for a 60 s window; the quick profile scales it down with the
            window).
        collection_size: items of the collection walked and exported.
        wantlist_size: items of the wantlist walked.
        overhead_requests: timed requests per client in the overhead run.
        overhead_warmup: untimed requests before them.
        overhead_repeats: runs per client (the median is reported).
        parse_bodies: distinct release bodies parsed.
        parse_rounds: passes over them.
        export_sizes: collection items exported to each format.
        export_formats: formats exported.
        startup_runs: fresh processes per startup measure (the median is reported).
        mirror_items: collection items of the mirror sync (its wantlist has a third as many).
    """

    name: str
    rate_limit: int
    rate_window: float
    crawl_requests: int
    preset_used: int
    limiter_margin: float | None
    collection_size: int
    wantlist_size: int
    overhead_requests: int
    overhead_warmup: int
    overhead_repeats: int
    parse_bodies: int
    parse_rounds: int
    export_sizes: tuple[int, ...]
    export_formats: tuple[str, ...]
    startup_runs: int = 15
    mirror_items: int = 120

    def fastest_crawl_seconds(self, preset: int = 0) -> float:
        """The shortest time the rule allows for the crawl: ``window * floor((N - 1 + P) / L)``.

        A perfect client sends a burst up to the limit, then one request per slot that frees.
        Requests another program spent (P) count as if sent at the start.
        """
        spent = self.crawl_requests - 1 + preset
        return self.rate_window * math.floor(spent / self.rate_limit)

    def crawl_timeout(self) -> float:
        """When a crawl worker is killed: five times the fastest time, plus a minute."""
        return 5 * self.fastest_crawl_seconds() + 60.0


FULL = Profile(
    name="full",
    rate_limit=60,
    rate_window=60.0,
    crawl_requests=150,
    preset_used=30,
    limiter_margin=None,
    collection_size=1000,
    wantlist_size=500,
    overhead_requests=2000,
    overhead_warmup=50,
    overhead_repeats=5,
    parse_bodies=200,
    parse_rounds=25,
    export_sizes=(10_000, 100_000),
    export_formats=("csv", "jsonl"),
)
"""The real rule (60 requests per moving 60 s) and the sizes of the issue; crawls take minutes."""

QUICK = Profile(
    name="quick",
    rate_limit=10,
    rate_window=1.0,
    crawl_requests=25,
    preset_used=5,
    limiter_margin=0.01,
    collection_size=1000,
    wantlist_size=500,
    overhead_requests=300,
    overhead_warmup=20,
    overhead_repeats=1,
    parse_bodies=100,
    parse_rounds=5,
    export_sizes=(10_000,),
    export_formats=("csv", "jsonl"),
    startup_runs=5,
)
"""The rule scaled down to 10 requests per 1 s window, N=25, smaller runs: a smoke test."""
