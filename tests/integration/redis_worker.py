"""One worker of the multi-worker tests: ``python -m tests.integration.redis_worker FOLDER``.

Reads ``FOLDER/job.json`` (``token``, ``base_url``, ``ids``, ``retry_interval``), builds a
`Discogs` client from the ``DISCOGS_*`` environment the test set (Redis rate window and cache,
a shared budget name), touches ``FOLDER/ready``, waits for ``FOLDER/go``, fetches every release
of ``ids`` once, appending each id to ``FOLDER/progress`` as it is done, and writes
``FOLDER/result.json``: the ids fetched, those served from the cache, failures, and what it
logged on ``musicagent`` at INFO and above.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

GO_TIMEOUT = 120.0


class Recorder(logging.Handler):
    """Keeps every record's level and message."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.name, record.getMessage()))


def main(folder: Path) -> None:
    job: dict[str, Any] = json.loads((folder / "job.json").read_text())
    import musicagent.redis_link
    from musicagent import Discogs

    # A test cannot wait minutes for a server to be tried again.
    musicagent.redis_link.RETRY_INTERVAL = float(job["retry_interval"])
    recorder = Recorder()
    library = logging.getLogger("musicagent")
    library.addHandler(recorder)
    library.setLevel(logging.INFO)

    fetched: list[int] = []
    cached: list[int] = []
    failed: dict[str, str] = {}
    with Discogs(token=job["token"], base_url=job["base_url"]) as client:
        client.rate_limit  # connects to Redis before the start signal  # noqa: B018
        (folder / "ready").touch()
        deadline = time.monotonic() + GO_TIMEOUT
        while not (folder / "go").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no start signal")
            time.sleep(0.005)
        with (folder / "progress").open("a", encoding="ascii") as progress:
            for release_id in job["ids"]:
                hits = client.stats.cache_hits
                try:
                    release = client.database.get_release(release_id)
                except Exception as exc:  # recorded: the test says which item failed and why
                    failed[str(release_id)] = f"{type(exc).__name__}: {exc}"
                else:
                    fetched.append(release.id)
                    if client.stats.cache_hits > hits:
                        cached.append(release.id)
                progress.write(f"{release_id}\n")
                progress.flush()
        shared = bool(getattr(client.limiter.store, "shared", False)) if client.limiter else False
    result = {
        "fetched": fetched,
        "from_cache": cached,
        "failed": failed,
        "logged": recorder.records,
        "shared_at_end": shared,
    }
    (folder / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
