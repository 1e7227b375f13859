"""What the facade knows about one operation, and what it needs from whoever runs it.

The generated resource classes describe each call as an `Operation` and hand it, with the
caller's arguments, to an executor. The executor (the hand-written overlay) validates the
arguments, builds the request with the generated builder, sends it through its transports and
parses the response into the operation's model. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

ArgumentLocation = Literal["path", "query", "header", "body"]
ResultKind = Literal["model", "none", "bytes", "form", "location"]


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a facade method and where it goes on the wire."""

    python_name: str
    location: ArgumentLocation
    wire_name: str
    builder_name: str
    required: bool
    schema: Mapping[str, Any]
    binary: bool = False


@dataclass(frozen=True, slots=True)
class Operation(Generic[R]):
    """One Discogs operation as the facade calls it."""

    operation_id: str
    tag: str
    method: str
    path: str
    build: Callable[..., dict[str, Any]]
    arguments: tuple[Argument, ...]
    result_kind: ResultKind
    model: type[Any] | None = None
    body_model: type[Any] | None = None
    body_kind: Literal["json", "multipart"] | None = None
    body_required: bool = False
    body_schema: Mapping[str, Any] | None = None
    success_statuses: tuple[int, ...] = (200,)
    items_key: str | None = None
    item_model: type[Any] | None = None
    cache_kind: str | None = None
    """How the cache keeps this operation's answer (`x-musicagent-cache`): a kind of
    `CachePolicy` (database, search, user, marketplace), or None for never."""
    invalidates: tuple[str, ...] = ()
    """Path templates (`x-musicagent-invalidates`) of cached answers this write makes stale;
    `{name}` placeholders take the call's path arguments, `*` spans segments."""
    replay_safe: bool = False
    """Whether the request may be sent again after an ambiguous failure (a 5xx or a read
    error after sending), `x-musicagent-replay-safe`; GET and HEAD are by default."""
    extra: Mapping[str, Any] = field(default_factory=dict)


class SyncExecutor(Protocol):
    """Runs operations synchronously."""

    def call(self, operation: Operation[R], arguments: dict[str, Any]) -> R:
        """Send one request and return its parsed result."""
        ...

    def paginate(self, operation: Operation[Any], arguments: dict[str, Any]) -> Iterator[Any]:
        """Walk every page of a paginated operation, yielding its items."""
        ...


class AsyncExecutor(Protocol):
    """Runs operations on asyncio."""

    async def call(self, operation: Operation[R], arguments: dict[str, Any]) -> R:
        """Send one request and return its parsed result."""
        ...

    def paginate(self, operation: Operation[Any], arguments: dict[str, Any]) -> AsyncIterator[Any]:
        """Walk every page of a paginated operation, yielding its items."""
        ...
