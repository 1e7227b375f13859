"""Run the facade's operations: validate arguments, build the request, run the loop, parse.

The generated resource classes (`discogs_facade`) describe each call as an `Operation` and hand
it here. The decisions live in plain functions (`check_arguments`, `build_request`) and in the
request loop (`musicagent.request_loop.call_flow`), shared by both executors; `SyncExecutor` and
`AsyncExecutor` only choose how the loop's I/O is performed.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from discogs_api.types import UNSET, File
from discogs_facade import Operation

from musicagent.arguments import check_arguments, checks_for, describe_allowed
from musicagent.cache import from_cache
from musicagent.errors import DiscogsAPIError, ResponseValidationError
from musicagent.extensions import CORRELATION_ID, OPERATION_ID
from musicagent.pagination import MAX_PAGES, PAGE_SIZE, PageWalk, items_of, page_arguments
from musicagent.ratelimit import RateLimitStatus
from musicagent.request_loop import AsyncIO, LoopSettings, SyncIO, call_flow, run_async, run_sync
from musicagent.responses import read_response

if TYPE_CHECKING:
    from musicagent.recording import Recorder

R = TypeVar("R")


def _as_file(value: Any, field: str) -> File:
    if isinstance(value, bytes | bytearray):
        return File(
            payload=io.BytesIO(bytes(value)), file_name=f"{field}.csv", mime_type="text/csv"
        )
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        return File(
            payload=io.BytesIO(path.read_bytes()), file_name=path.name, mime_type="text/csv"
        )
    name = os.path.basename(str(getattr(value, "name", f"{field}.csv")))
    return File(payload=value, file_name=name, mime_type="text/csv")


def builder_kwargs(op: Operation[Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for the generated request builder (`request_kwargs`)."""
    checks = checks_for(op)
    kwargs: dict[str, Any] = {}
    for arg in checks.sent:
        value = arguments.get(arg.python_name)
        kwargs[arg.builder_name] = UNSET if value is None else value
    if op.body_model is not None:
        fields = checks.body_fields(arguments)
        if op.body_kind == "multipart":
            files = {name: _as_file(value, name) for name, value in fields.items()}
            kwargs["body"] = op.body_model(**files)
        elif fields or op.body_required:
            kwargs["body"] = op.body_model.from_dict(fields)
        else:
            kwargs["body"] = UNSET
    return kwargs


_ids = random.Random()
# A forked child must not repeat its parent's ids.
os.register_at_fork(after_in_child=_ids.seed)


def correlation_id() -> str:
    """Twelve hex digits telling one call's log records apart (not a secret: no syscall)."""
    return f"{_ids.getrandbits(48):012x}"


def _base_prefix(base: httpx.URL) -> str | None:
    """The base URL a path is appended to, as httpx merges them (None: let httpx merge).

    httpx parses a relative URL, then parses again the URL it merges with its base; handed
    the merged URL, it parses once. Its base's path always ends with "/" (shown without it
    when the path is only "/").
    """
    if base.query or base.fragment:
        return None
    text = str(base)
    return text if text.endswith("/") else text + "/"


def build_request(
    client: httpx.Client | httpx.AsyncClient,
    op: Operation[Any],
    arguments: Mapping[str, Any],
    *,
    url: str | None = None,
) -> httpx.Request:
    """Validate the arguments and build the request (no I/O). `url` overrides (next pages)."""
    check_arguments(op, arguments)
    kwargs = op.build(**builder_kwargs(op, arguments))
    kwargs.pop("method", None)
    if url is not None:
        kwargs = {"url": url}
    else:
        if not kwargs.get("params"):
            # An empty mapping would make httpx parse the URL a second time, for no query at all.
            kwargs.pop("params", None)
        path = kwargs.get("url")
        if isinstance(path, str) and path.startswith("/") and not path.startswith("//"):
            prefix = _base_prefix(client.base_url)
            if prefix is not None:
                kwargs["url"] = prefix + path[1:]
    request = client.build_request(op.method, **kwargs)
    request.extensions[CORRELATION_ID] = correlation_id()
    request.extensions[OPERATION_ID] = op.operation_id
    return request


def path_arguments(op: Operation[Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The call's path values by their spec names (they fill cache invalidation templates)."""
    return checks_for(op).path_values(arguments)


def _unexpected(op: Operation[Any], response: httpx.Response, exc: Exception) -> Exception:
    # A body nested past the parser's depth, or shaped in a way no check foresaw, still ends
    # in the error hierarchy rather than as a bare Python exception.
    request = response.request
    return ResponseValidationError(
        f"the body could not be read ({type(exc).__name__})",
        operation_id=op.operation_id,
        status=response.status_code,
        method=request.method,
        url=request.url,
        response=response,
    )


class _ExecutorBase:
    def __init__(
        self,
        client: httpx.Client | httpx.AsyncClient,
        loop: LoopSettings,
        *,
        strict: bool = False,
        rate_limit: Callable[[], RateLimitStatus | None] = lambda: None,
        max_pages: int = MAX_PAGES,
        recorder: Recorder | None = None,
    ) -> None:
        self.recorder = recorder
        self.base_url = str(client.base_url).rstrip("/")
        self.loop = loop
        self.strict = strict
        self.max_pages = max_pages
        self._rate_limit = rate_limit

    def _result(self, op: Operation[R], response: httpx.Response) -> R:
        # The budget is computed only for errors: it costs a lock and a scan of the window.
        status = response.status_code
        if self.recorder is not None and not from_cache(response):
            request = response.request
            self.recorder.record(
                op.operation_id,
                request.method,
                request.url,
                status,
                response.headers,
                response.content,
            )
        rate_limit = self._rate_limit() if status >= 300 and status != 304 else None
        try:
            return read_response(op, response, strict=self.strict, rate_limit=rate_limit)
        except DiscogsAPIError:
            raise
        except (RecursionError, LookupError, ValueError, TypeError, AttributeError) as exc:
            raise _unexpected(op, response, exc) from None

    def _walk(self, op: Operation[Any]) -> PageWalk:
        return PageWalk(op.operation_id, self.base_url, self.max_pages)

    def _next(
        self,
        client: httpx.Client | httpx.AsyncClient,
        op: Operation[Any],
        first: dict[str, Any],
        target: str | int | None,
    ) -> httpx.Request | None:
        if target is None:
            return None
        if isinstance(target, str):
            return build_request(client, op, first, url=target)
        return build_request(client, op, {**first, "page": target})


class SyncExecutor(_ExecutorBase):
    """Runs operations through the request loop with blocking I/O (`Discogs`)."""

    def __init__(self, client: httpx.Client, loop: LoopSettings, io: SyncIO, **options: Any):
        super().__init__(client, loop, **options)
        self.client = client
        self.io = io

    def send(self, op: Operation[R], request: httpx.Request, path: Mapping[str, Any]) -> R:
        """Run a built request through the loop and read its result."""
        flow = call_flow(self.loop, request, op=op, path_arguments=path)
        return self._result(op, run_sync(flow, self.io.perform))

    def call(self, operation: Operation[R], arguments: dict[str, Any]) -> R:
        """One call of one operation."""
        request = build_request(self.client, operation, arguments)
        return self.send(operation, request, path_arguments(operation, arguments))

    def paginate(self, operation: Operation[Any], arguments: dict[str, Any]) -> Iterator[Any]:
        """Every item of every page, lazily, following `pagination.urls.next` (see `PageWalk`)."""
        first = page_arguments(arguments)
        path = path_arguments(operation, arguments)
        walk = self._walk(operation)
        request: httpx.Request | None = build_request(self.client, operation, first)
        assert request is not None
        walk.start(request.url)
        while request is not None:
            page = self.send(operation, request, path)
            listed = items_of(operation, page)
            yield from walk.items(listed, page)
            request = self._next(self.client, operation, first, walk.next_url(listed, page))


class AsyncExecutor(_ExecutorBase):
    """Runs operations through the request loop with awaitable I/O (`AsyncDiscogs`)."""

    def __init__(self, client: httpx.AsyncClient, loop: LoopSettings, io: AsyncIO, **options: Any):
        super().__init__(client, loop, **options)
        self.client = client
        self.io = io

    async def send(self, op: Operation[R], request: httpx.Request, path: Mapping[str, Any]) -> R:
        """Run a built request through the loop and read its result."""
        flow = call_flow(self.loop, request, op=op, path_arguments=path)
        return self._result(op, await run_async(flow, self.io.perform))

    async def call(self, operation: Operation[R], arguments: dict[str, Any]) -> R:
        """One call of one operation."""
        request = build_request(self.client, operation, arguments)
        return await self.send(operation, request, path_arguments(operation, arguments))

    async def paginate(
        self, operation: Operation[Any], arguments: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """Every item of every page, lazily, following `pagination.urls.next` (see `PageWalk`)."""
        first = page_arguments(arguments)
        path = path_arguments(operation, arguments)
        walk = self._walk(operation)
        request: httpx.Request | None = build_request(self.client, operation, first)
        assert request is not None
        walk.start(request.url)
        while request is not None:
            page = await self.send(operation, request, path)
            listed = items_of(operation, page)
            for item in walk.items(listed, page):
                yield item
            request = self._next(self.client, operation, first, walk.next_url(listed, page))


__all__ = [
    "PAGE_SIZE",
    "AsyncExecutor",
    "DiscogsAPIError",
    "SyncExecutor",
    "build_request",
    "check_arguments",
    "describe_allowed",
    "path_arguments",
    "read_response",
]
