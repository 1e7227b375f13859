"""Requests per task: how many HTTP requests each client sends to walk a whole list.

Each client walks, in its natural way and with its default page size, the 1,000-item
collection of the sandbox user, its 500-item wantlist, and every version of the master with
the most versions in the dataset. The sandbox counts the requests; the minimum is one request
per 100 items (Discogs' largest page). Calls a client makes to discover a list's URL (the user,
the folders, the master) count too: they are part of what the job costs.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.launch import WorkerJob, run_workers
from benchmarks.profiles import Profile
from benchmarks.report import Section, SummaryRow, Target

__all__ = ["largest_master", "requests_section"]

UNLIMITED = 10**9
"""A rate limit no run reaches: these runs count requests, not waits."""

PER_PAGE = {
    "musicagent": "100",
    "python3-discogs-client": "50 (sent)",
    "discogs-sdk": "none sent (server default 50)",
}
"""The page size each client asks for by default (read from its source)."""


def largest_master(base_url: str, token: str, candidates: int = 40) -> tuple[int, int]:
    """The master with the most versions among the first `candidates` ids, and that count."""
    import httpx

    best = (1, 0)
    headers = {"Authorization": f"Discogs token={token}", "User-Agent": "musicagent-benchmarks"}
    with httpx.Client(base_url=base_url, headers=headers) as http:
        for master_id in range(1, candidates + 1):
            response = http.get(f"/masters/{master_id}/versions", params={"per_page": 1})
            if response.status_code == 200:
                count = int(response.json()["pagination"]["items"])
                if count > best[1]:
                    best = (master_id, count)
    return best


def requests_section(profile: Profile, clients: list[str], log: Any) -> Section:
    """Walk each list with each client and tabulate the requests the sandbox counted."""
    from musicagent.testing import SANDBOX_TOKEN, SANDBOX_USERNAME, Sandbox

    rows: list[list[str]] = []
    summary: list[SummaryRow] = []
    targets: list[Target] = []
    with Sandbox(
        rate_limit=UNLIMITED,
        collection_size=profile.collection_size,
        wantlist_size=profile.wantlist_size,
        seed=0,
    ) as sandbox:
        master_id, versions = largest_master(sandbox.base_url, SANDBOX_TOKEN)
        tasks = [
            ("collection", SANDBOX_USERNAME, profile.collection_size, "item collection"),
            ("wantlist", SANDBOX_USERNAME, profile.wantlist_size, "item wantlist"),
            ("master_versions", master_id, versions, f"versions of master {master_id}"),
        ]
        for what, target, items, label in tasks:
            minimum = math.ceil(items / 100)
            task_name = f"{items:,}-{label}"
            if what == "master_versions":
                task_name = f"all {items} {label}"
            values: dict[str, str] = {}
            for client in clients:
                job = WorkerJob(
                    task="walk",
                    client=client,
                    options={"base_url": sandbox.base_url, "token": SANDBOX_TOKEN},
                    params={"what": what, "target": target},
                )
                _started, (run,) = run_workers([job], timeout=300, before_go=sandbox.reset)
                stats = sandbox.stats()
                sent = int(stats["requests"])
                walked = run.result["items"] if run.result else 0
                problem = (run.result or {}).get("error") or run.error
                rows.append(
                    [
                        task_name,
                        client,
                        str(sent),
                        str(minimum),
                        f"{sent / minimum:.1f}×",
                        f"{walked:,}",
                        PER_PAGE.get(client, "?"),
                        problem or "",
                    ]
                )
                values[client] = f"{sent}" + (f" ({walked:,} items)" if walked != items else "")
                log(f"  requests: {client} {what}: {sent} requests, {walked} items")
                if client == "musicagent":
                    targets.append(
                        Target(
                            f"requests to walk {task_name}: the minimum ({minimum})",
                            sent == minimum and walked == items,
                            f"{sent} request{'' if sent == 1 else 's'}, {walked:,} items",
                        )
                    )
            summary.append(SummaryRow(f"Requests to walk {task_name} (minimum {minimum})", values))
    return Section(
        key="requests",
        title="Requests per task",
        intro=(
            "HTTP requests counted by the sandbox to walk a whole list with each client's "
            "natural API and default page size. Minimum: ⌈items / 100⌉ (100 is the largest "
            "page Discogs serves); look-up calls a client needs to find the list count too."
        ),
        headers=[
            "task",
            "client",
            "requests",
            "minimum",
            "÷ minimum",
            "items walked",
            "per_page",
            "problem",
        ],
        rows=rows,
        notes=[
            "python3-discogs-client reaches a collection through the user (1 request) and its "
            "folders (1 request), a wantlist through the user, a master's versions through "
            "the master.",
            f"The sandbox's largest master has {versions} versions, so that walk is a single "
            "page for every client; the collection and the wantlist show the page-size gap.",
        ],
        targets=targets,
        summary=summary,
    )
