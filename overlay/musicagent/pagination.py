"""Walking paginated Discogs lists: page size, where the items are, and what comes next.

Discogs pages carry `pagination: {page, pages, per_page, items, urls: {next, ...}}` next to the
list (Docs L146-184). The walkers ask for the largest page the API allows, so a job takes the
fewest requests, and follow `urls.next`; when a page has no `next` link but says more pages
exist, the next page number is requested instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from discogs_facade import Operation

#: The largest `per_page` Discogs accepts.
PAGE_SIZE = 100


def page_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The first page's arguments: page 1 at the largest page size."""
    return {**arguments, "page": 1, "per_page": PAGE_SIZE}


def items_at(page: object, key: str) -> list[Any]:
    """The list under `key` of a page (a model or its dict); an object-valued list key, as
    for user submissions, is one item."""
    value = page.get(key) if isinstance(page, Mapping) else getattr(page, key, None)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def items_of(operation: Operation[Any], page: Any) -> list[Any]:
    """The items of one page of a paginated operation."""
    return items_at(page, operation.items_key or "")


def _pagination(page: Any) -> Any:
    return getattr(page, "pagination", None)


def next_page_url(page: Any) -> str | None:
    """`pagination.urls.next` as a path with query (its host is never trusted), or None."""
    urls = getattr(_pagination(page), "urls", None)
    url = getattr(urls, "next", None) if urls is not None else None
    if not url:
        return None
    parts = urlsplit(str(url))
    # Credentials go only to the configured base URL: keep the path and query, drop the host.
    return urlunsplit(("", "", parts.path, parts.query, ""))


def next_page_number(page: Any) -> int | None:
    """The next page number when the body says more pages exist, else None."""
    pagination = _pagination(page)
    number, pages = getattr(pagination, "page", None), getattr(pagination, "pages", None)
    if isinstance(number, int) and isinstance(pages, int) and number < pages:
        return number + 1
    return None
