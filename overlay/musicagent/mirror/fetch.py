"""How the mirror reads Discogs: through the client's own request loop, nothing else.

List pages are asked for fresh (`Cache-Control: no-cache`): the mirror exists to see what
changed, so a list page served from the cache would hide exactly that. The fresh answer still
replaces the cached one, and the request is paced, retried and counted like any call.
Releases, masters and marketplace statistics go through the ordinary methods, so the cache
answers what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discogs_facade import OPERATIONS

from musicagent._executor import build_request, path_arguments
from musicagent.client import Discogs
from musicagent.mirror.kinds import ListKind
from musicagent.pagination import PAGE_SIZE


def fresh_page(client: Discogs, kind: ListKind, username: str, page: int) -> Mapping[str, Any]:
    """Page `page` (100 items) of a kind's list for `username`, fetched fresh, as a dict."""
    operation = OPERATIONS[kind.operation_id]
    arguments = {**kind.arguments(username), "page": page, "per_page": PAGE_SIZE}
    request = build_request(client.http, operation, arguments)
    request.headers["Cache-Control"] = "no-cache"
    # The executor is the client's request loop (cache, limiter, retries, counters): the
    # mirror adds no HTTP path of its own.
    body = client._executor.send(operation, request, path_arguments(operation, arguments))
    result: Mapping[str, Any] = body.to_dict()
    return result


__all__ = ["fresh_page"]
