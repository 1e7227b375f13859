"""How the mirror reads a list page: fresh, through the client's own request loop.

List pages are asked for fresh (`Cache-Control: no-cache`, see `flow.page_request`): the
mirror exists to see what changed, so a list page served from the cache would hide exactly
that. Releases, masters and marketplace statistics go through the ordinary calls, so the cache
answers what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from musicagent.client import Discogs
from musicagent.mirror.flow import page_request
from musicagent.mirror.kinds import ListKind

if TYPE_CHECKING:
    from musicagent.async_client import AsyncDiscogs


def fresh_page(client: Discogs, kind: ListKind, username: str, page: int) -> Mapping[str, Any]:
    """Page `page` (100 items) of a kind's list for `username`, fetched fresh, as a dict."""
    operation, request, path = page_request(client, kind, username, page)
    result: Mapping[str, Any] = client._executor.send(operation, request, path).to_dict()
    return result


async def fresh_page_async(
    client: AsyncDiscogs, kind: ListKind, username: str, page: int
) -> Mapping[str, Any]:
    """`fresh_page` with the async client."""
    operation, request, path = page_request(client, kind, username, page)
    body = await client._executor.send(operation, request, path)
    result: Mapping[str, Any] = body.to_dict()
    return result


__all__ = ["fresh_page", "fresh_page_async"]
