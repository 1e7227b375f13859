"""The mirror's sync as one flow, driven by a sync shell or an async one.

A sync is written once, as generators (`ListSync.flow`, `Hydrator.stage`, `PriceSnapshot.take`,
`Mirror` itself) that decide what to read and write and *yield* each read they need as an
effect. A shell performs the effect and sends the answer back (or throws the error in, so the
flow's own `try`/`finally` see it exactly as a direct call would) — the request loop's own
drivers (`musicagent.request_loop.run_sync` / `run_async`) do the driving:

- `Page`: one page of a list, fetched fresh;
- `Get`: one call of a facade operation, answered as a dict;
- `GetEach`: many independent calls, each answer handed to `keep` as it lands (`None` when
  the entity is gone or not visible) — the sync shell sends them one after the other, the async
  shell up to `concurrency` at a time, all paced by the client's one limiter.

Database writes happen inside the flow (and inside `keep`), never in a shell, so both shells
leave the same database and the same resume points.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from discogs_facade import OPERATIONS

from musicagent._executor import build_request, path_arguments
from musicagent.errors import ForbiddenError, InvalidParameterError, ResourceNotFoundError
from musicagent.mirror.kinds import ListKind
from musicagent.pagination import PAGE_SIZE
from musicagent.request_loop import run_async as drive_async
from musicagent.request_loop import run_sync as drive_sync

R = TypeVar("R")

Body = Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    """Page `number` (100 items) of a kind's list for `username`, fetched fresh."""

    kind: ListKind
    username: str
    number: int


@dataclass(frozen=True)
class Get:
    """One call of the operation `operation_id` with `arguments`, answered as a dict."""

    operation_id: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class GetEach:
    """Independent calls; `keep(key, body)` runs for each as it lands (`body` None when the
    entity answered 404 or 403). The flow resumes once every call is kept."""

    calls: Sequence[tuple[int, Get]]
    keep: Callable[[int, Body | None], None]


Effect = Page | Get | GetEach
Flow = Generator[Effect, Any, R]
"""A sync step: yields effects, receives their answers, returns its result."""

FetchPage = Callable[[ListKind, str, int], Body]
"""Fetches page N of a kind's list for a user, fresh (never from the cache), as a dict."""

AsyncFetchPage = Callable[[ListKind, str, int], Awaitable[Body]]

GONE = (ResourceNotFoundError, ForbiddenError)
"""Answers that mean "nothing to store" for one entity of a `GetEach`."""


def page_request(client: Any, kind: ListKind, username: str, number: int) -> Any:
    """The fresh request for a list page (`Cache-Control: no-cache`): the mirror exists to
    see what changed, so a cached page would hide exactly that. The fresh answer still
    replaces the cached one, and the request is paced, retried and counted like any call."""
    operation = OPERATIONS[kind.operation_id]
    arguments = {**kind.arguments(username), "page": number, "per_page": PAGE_SIZE}
    request = build_request(client.http, operation, arguments)
    request.headers["Cache-Control"] = "no-cache"
    return operation, request, path_arguments(operation, arguments)


def _call(client: Any, get: Get) -> Any:
    """`get` through the client's request loop (cache, limiter, retries, counters): the mirror
    adds no HTTP path of its own. An awaitable with the async client."""
    return client._executor.call(OPERATIONS[get.operation_id], dict(get.arguments))


def checked_concurrency(value: object) -> int:
    """`concurrency` as given, or a one-line error naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            f"concurrency must be a whole number of at least 1, not {value!r}",
            parameter="concurrency",
            value=value,
        )
    return value


def run_sync(flow: Flow[R], client: Any, fetch_page: FetchPage) -> R:
    """Drive `flow` with the sync client: one request at a time."""

    def perform(effect: Effect) -> Any:
        if isinstance(effect, Page):
            return fetch_page(effect.kind, effect.username, effect.number)
        if isinstance(effect, Get):
            return _call(client, effect).to_dict()
        for key, get in effect.calls:
            try:
                body: Body | None = _call(client, get).to_dict()
            except GONE:
                body = None
            effect.keep(key, body)
        return None

    return drive_sync(flow, perform)


async def run_async(
    flow: Flow[R], client: Any, fetch_page: AsyncFetchPage, *, concurrency: int
) -> R:
    """Drive `flow` with the async client: a `GetEach` runs up to `concurrency` calls at a
    time; everything else one at a time, in the flow's order."""
    concurrency = checked_concurrency(concurrency)

    async def perform(effect: Effect) -> Any:
        if isinstance(effect, Page):
            return await fetch_page(effect.kind, effect.username, effect.number)
        if isinstance(effect, Get):
            return (await _call(client, effect)).to_dict()
        await _each_async(effect, client, concurrency)
        return None

    return await drive_async(flow, perform)


async def _each_async(effect: GetEach, client: Any, concurrency: int) -> None:
    pending = iter(effect.calls)

    async def worker() -> None:
        # One shared iterator: each worker takes the next call when its last one is kept.
        for key, get in pending:
            try:
                body: Body | None = (await _call(client, get)).to_dict()
            except GONE:
                body = None
            effect.keep(key, body)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(effect.calls)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        # The first failure ends the batch: what was kept stays kept, the rest is not sent.
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise


__all__ = [
    "GONE",
    "AsyncFetchPage",
    "Effect",
    "FetchPage",
    "Flow",
    "Get",
    "GetEach",
    "Page",
    "checked_concurrency",
    "page_request",
    "run_async",
    "run_sync",
]
