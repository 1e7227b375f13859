"""The floor of the command-line export benchmark: plain httpx + orjson, nothing else imported.

    python benchmarks/export_floor.py BASE_URL TOKEN OUT

Fetches every page of the sandbox user's collection (100 items a page) and writes each item as
one JSON line: what any program exporting the list has to do at the least. Kept apart from
`benchmarks.export_cli` so its process imports nothing the floor does not need.
"""

from __future__ import annotations

import sys

import httpx
import orjson

PER_PAGE = 100
PATH = "/users/sandbox/collection/folders/0/releases"


def export(base_url: str, token: str, out: str) -> None:
    """Fetch every page, write every item as a JSON line."""
    headers = {"Authorization": f"Discogs token={token}", "User-Agent": "musicagent-benchmarks"}
    with httpx.Client(base_url=base_url, headers=headers) as http, open(out, "wb") as handle:
        page, pages = 1, 1
        while page <= pages:
            response = http.get(PATH, params={"page": page, "per_page": PER_PAGE})
            response.raise_for_status()
            body = orjson.loads(response.content)
            pages = int(body["pagination"]["pages"])
            handle.write(b"".join(orjson.dumps(item) + b"\n" for item in body["releases"]))
            page += 1


if __name__ == "__main__":
    export(*sys.argv[1:4])
