"""Page sources for `ExportJob`: a client list method turned into `fetch_page(n)`.

    fetch_page = page_source(
        client.collection.get_collection_items_by_folder, "rodney", 0, items_key="releases"
    )
    items, total_pages, total_items = fetch_page(1)

Each call asks for one page at the largest page size Discogs allows (100 items) and reads the
totals from the page's `pagination` block.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from musicagent.export.job import AsyncFetchPage, FetchPage, PageResult
from musicagent.pagination import PAGE_SIZE, items_at

__all__ = ["async_page_source", "page_contents", "page_source"]


def _member(value: object, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def page_contents(page: object, items_key: str) -> PageResult:
    """Items and totals of one page (a model or its dict): `page.<items_key>` and
    `pagination.pages` / `pagination.items`. A page without pagination counts as the only one.
    """
    listed = items_at(page, items_key)
    pagination = _member(page, "pagination")
    pages = _member(pagination, "pages") if pagination is not None else None
    total = _member(pagination, "items") if pagination is not None else None
    return PageResult(
        listed,
        pages if isinstance(pages, int) else 1,
        total if isinstance(total, int) else None,
    )


def page_source(
    method: Callable[..., Any],
    /,
    *args: Any,
    items_key: str,
    per_page: int = PAGE_SIZE,
    **kwargs: Any,
) -> FetchPage:
    """`fetch_page(n)` calling `method(*args, page=n, per_page=per_page, **kwargs)`."""

    def fetch_page(number: int) -> PageResult:
        return page_contents(method(*args, page=number, per_page=per_page, **kwargs), items_key)

    return fetch_page


def async_page_source(
    method: Callable[..., Awaitable[Any]],
    /,
    *args: Any,
    items_key: str,
    per_page: int = PAGE_SIZE,
    **kwargs: Any,
) -> AsyncFetchPage:
    """The async twin of `page_source`, for `AsyncDiscogs` methods and `AsyncExportJob`."""

    async def fetch_page(number: int) -> PageResult:
        page = await method(*args, page=number, per_page=per_page, **kwargs)
        return page_contents(page, items_key)

    return fetch_page
