"""Walking paginated Discogs lists: page size, where the items are, and what comes next.

Discogs pages carry `pagination: {page, pages, per_page, items, urls: {next, ...}}` next to the
list (Docs L146-184). The walkers ask for the largest page the API allows, so a job takes the
fewest requests, and follow `urls.next`; when a page has no `next` link but says more pages
exist, the next page number is requested instead. `PageWalk` keeps a hostile or broken server
from making a walk endless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from discogs_facade import Operation

from musicagent.errors import PaginationError

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


MAX_PAGES = 10_000
"""The most pages one walk follows (a million items at 100 a page): a guard against a server
that announces pages without end."""


def _query_key(url: httpx.URL) -> tuple[str, tuple[tuple[str, str], ...]]:
    # A repeated page is recognised by what it asks for, not by how the link is spelled:
    # `?per_page=100&page=1` and `?page=1&per_page=100` are the same page.
    return url.path.rstrip("/"), tuple(sorted(url.params.multi_items()))


def item_identity(item: object) -> object:
    """What tells one listed item from another (instance id, id, type, role), or None."""
    if type(item) is dict:  # a record as exports hold it: no attribute lookups that miss
        get = item.get
        identity = (get("instance_id"), get("id"), get("type"), get("role"))
        return None if identity[:2] == (None, None) else identity
    extra = getattr(item, "__pydantic_extra__", None)
    if extra is not None or hasattr(item, "__pydantic_fields_set__"):
        # A Pydantic model: its fields are in __dict__, unknown members in the extras. Read
        # there, not with getattr, which raises (and catches) for every absent member. Spelled
        # out, not looped: this runs for every item of every page a walk or an export reads.
        fields, extras = item.__dict__, extra or {}
        identity = (
            fields["instance_id"] if "instance_id" in fields else extras.get("instance_id"),
            fields["id"] if "id" in fields else extras.get("id"),
            fields["type"] if "type" in fields else extras.get("type"),
            fields["role"] if "role" in fields else extras.get("role"),
        )
    else:

        def member(name: str) -> object:
            return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)

        identity = (member("instance_id"), member("id"), member("type"), member("role"))
    return None if identity[:2] == (None, None) else identity


@dataclass
class PageWalk:
    """Where a paginated walk goes next, decided without trusting the server.

    The walk stops on an empty page; fixes the number of pages from the first page (a later page
    cannot extend it); recognises a page it already fetched, by its parsed query (a `next` link
    back to page 1 with its parameters reordered) and by its item ids (the same items under a
    fresh link each time); and refuses to go past `max_pages` with `PaginationError`. The walkers
    of both clients and the export job use it, so none of them can loop forever.

    Attributes:
        operation_id: the operation walked (for the error message).
        base_url: the API root: `next` links are resolved against it, their host never trusted.
        max_pages: the most pages followed.
    """

    operation_id: str
    base_url: str
    max_pages: int = MAX_PAGES
    pages: int | None = None
    fetched: int = 0
    _queries: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)
    _pages_seen: set[tuple[object, ...]] = field(default_factory=set)
    _repeated: bool = False

    def start(self, url: httpx.URL) -> None:
        """Record the first request, so that a link back to it ends the walk."""
        self._queries.add(_query_key(url))

    def items(self, listed: list[Any], page: Any) -> list[Any]:
        """The items of a fetched page to yield: none when it repeats a page already seen."""
        self.fetched += 1
        if self.fetched == 1:
            pages = getattr(_pagination(page), "pages", None)
            if pages is None and isinstance(page, Mapping):
                pagination = page.get("pagination")
                pages = pagination.get("pages") if isinstance(pagination, Mapping) else None
            self.pages = pages if isinstance(pages, int) and not isinstance(pages, bool) else None
        identities = tuple(item_identity(item) for item in listed)
        if identities and None not in identities:
            if identities in self._pages_seen:
                self._repeated = True
                return []
            self._pages_seen.add(identities)
        self._repeated = False
        return listed

    def next_url(self, listed: list[Any], page: Any) -> str | int | None:
        """The next page to fetch: a URL (from `urls.next`), a page number, or None to stop."""
        if not listed or self._repeated:
            return None
        if self.pages is not None and self.fetched >= self.pages:
            return None
        if self.fetched >= self.max_pages:
            raise PaginationError(
                f"stopped after {self.fetched} pages (max_pages); the server keeps announcing more",
                operation_id=self.operation_id,
                pointer="/pagination",
            )
        link = next_page_url(page)
        if link is not None:
            url = httpx.URL(self.base_url + "/").join(link.lstrip("/"))
            key = _query_key(url)
            if key in self._queries:
                return None
            self._queries.add(key)
            return str(url)
        return next_page_number(page)
