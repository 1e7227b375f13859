"""One decision per call, without I/O: look up, refresh, bypass, or invalidate after a write.

`plan_call` reads the operation's policy from the spec (``Operation.cache_kind`` and
``Operation.invalidates``, from the ``x-musicagent-*`` extensions) and the request's own
headers; the store then acts on the plan (`CacheStore.get`, `.put`, `.invalidate`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import httpx
from discogs_facade import OPERATIONS, Operation

from musicagent.cache.policy import CacheKind, CachePolicy, CacheScope, cache_key
from musicagent.masking import is_secret_name

__all__ = [
    "FROM_CACHE",
    "CachePlan",
    "CachedResponse",
    "fill_template",
    "from_cache",
    "match_operation",
    "path_arguments",
    "plan_call",
    "response_from_cache",
]

FROM_CACHE = "musicagent.from_cache"
"""Key of ``httpx.Response.extensions`` that marks a response served from the cache."""

_READ_METHODS = frozenset({"GET"})
_CONDITIONAL_HEADERS = frozenset(
    {b"if-none-match", b"if-modified-since", b"if-match", b"if-range", b"range"}
)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class CachePlan:
    """What the cache does with one call, decided by `plan_call` without I/O.

    Attributes:
        action: ``lookup`` (serve from cache, or fetch and store), ``refresh`` (fetch and
            replace the stored response), ``bypass`` (send, never store) or ``invalidate``
            (a write: send, then drop what it changed).
        path: the URL path of the request.
        kind: the kind of data (lookup/refresh only).
        key: the cache key (lookup/refresh only); it holds no secret.
        ttl: seconds the stored response stays fresh (lookup/refresh only).
        patterns: glob patterns (``*`` spans ``/``) of cached paths to drop (invalidate only).
        reason: why a request bypasses the cache, for debugging.
    """

    action: Literal["lookup", "refresh", "bypass", "invalidate"]
    path: str
    kind: CacheKind | None = None
    key: str | None = None
    ttl: float | None = None
    patterns: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A response as the cache returns it: no credential, cookie or transfer headers.

    Attributes:
        status: the HTTP status (always 2xx).
        headers: the stored headers, in order.
        body: the decoded body.
        stored_at: Unix time the response was stored.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float

    def __repr__(self) -> str:
        return f"CachedResponse(status={self.status}, body={len(self.body)} bytes)"


def plan_call(
    op: Operation[Any] | None,
    request: httpx.Request,
    path_arguments: Mapping[str, object],
    policy: CachePolicy,
    scope: CacheScope,
) -> CachePlan:
    """Decide what the cache does with one call (pure: no I/O).

    Args:
        op: the operation being called (None for a raw ``client.http`` request: it is then
            found from the method and path, or treated as unknown).
        request: the request as built, before credentials are attached.
        path_arguments: the call's path values, filling the ``{name}`` placeholders of the
            operation's invalidation templates.
        policy: lifetimes per kind of data.
        scope: the credential's keyed fingerprint (`CacheStore.scope`).
    """
    method = request.method.upper()
    path = request.url.path
    if op is None:
        found = match_operation(method, path)
        if found is not None:
            op, path_arguments = found
    if method not in _READ_METHODS:
        if method == "HEAD":
            return CachePlan("bypass", path, reason="only GET responses are cached")
        if op is None:
            return CachePlan("invalidate", path, patterns=_unknown_write_patterns(path))
        patterns = tuple(fill_template(t, path_arguments) for t in op.invalidates)
        return CachePlan("invalidate", path, patterns=patterns)
    # One pass over the header names for every check below.
    names = {name.lower() for name, _ in request.headers.raw}
    query = request.url.query
    if b"authorization" in names or (query and any(map(is_secret_name, request.url.params))):
        # Whose credential that is cannot be told here, so its answer is kept by no one.
        return CachePlan("bypass", path, reason="the request carries its own credentials")
    if not _CONDITIONAL_HEADERS.isdisjoint(names):
        return CachePlan("bypass", path, reason="conditional or range request")
    directives = _cache_control(request) if b"cache-control" in names else set()
    if "no-store" in directives:
        return CachePlan("bypass", path, reason="Cache-Control: no-store")
    if op is None:
        return CachePlan("bypass", path, reason="not a known Discogs operation")
    kind = op.cache_kind
    if kind is None:
        return CachePlan("bypass", path, reason=f"{op.operation_id} is never cached")
    ttl = policy.ttl_for(kind)
    if ttl is None:
        return CachePlan("bypass", path, reason=f"the policy does not cache {kind}")
    if scope.fingerprint is None:
        return CachePlan("bypass", path, reason="the cache store is unavailable")
    key = cache_key(method, request.url, scope.fingerprint, request.headers.get("accept", ""))
    fresh = "no-cache" in directives or "max-age=0" in directives
    action: Literal["lookup", "refresh"] = "refresh" if fresh else "lookup"
    return CachePlan(action, path, kind=kind, key=key, ttl=ttl)  # type: ignore[arg-type]


def fill_template(template: str, arguments: Mapping[str, object]) -> str:
    """A glob pattern from an invalidation template and the call's path arguments.

    ``{name}`` takes the argument's value matched literally (a ``*`` in a username is not a
    wildcard); a placeholder without an argument matches any one value; a ``*`` written in
    the template spans segments.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in arguments or arguments[name] is None:
            return "*"
        return _literal(str(arguments[name]))

    return _PLACEHOLDER.sub(value, template)


def match_operation(method: str, path: str) -> tuple[Operation[Any], dict[str, str]] | None:
    """The operation a raw request's method and path belong to, with its path arguments.

    None when no operation of the spec matches.
    """
    for operation, pattern in _path_table().get(method.upper(), ()):
        match = pattern.match(path)
        if match is not None:
            return operation, match.groupdict()
    return None


def path_arguments(op: Operation[Any], path: str) -> dict[str, str]:
    """The values of an operation's path placeholders in a concrete path ({} if it differs)."""
    match = _pattern_of(op.operation_id).match(path)
    return match.groupdict() if match is not None else {}


def from_cache(response: httpx.Response) -> bool:
    """Whether the response was served from the cache (its rate-limit headers are then stale)."""
    return bool(response.extensions.get(FROM_CACHE))


def response_from_cache(hit: CachedResponse, request: httpx.Request) -> httpx.Response:
    """An ``httpx.Response`` for a cache hit, marked so that `from_cache` tells it apart."""
    return httpx.Response(
        hit.status,
        headers=hit.headers,
        content=hit.body,
        request=request,
        extensions={FROM_CACHE: True},
    )


def _cache_control(request: httpx.Request) -> set[str]:
    values = request.headers.get_list("cache-control", split_commas=True)
    return {value.strip().lower().replace(" ", "") for value in values}


def _literal(text: str) -> str:
    # [x] matches x literally in both SQLite GLOB and fnmatch.
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _unknown_write_patterns(path: str) -> tuple[str, ...]:
    # A write the spec does not describe: drop what is under it and the list it belongs to.
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return ()
    here = "/" + "/".join(map(_literal, segments))
    parent = ("/" + "/".join(map(_literal, segments[:-1])),) if len(segments) > 1 else ()
    return (here, here + "/*", *parent)


@cache
def _pattern_of(operation_id: str) -> re.Pattern[str]:
    path = OPERATIONS[operation_id].path
    names = _PLACEHOLDER.findall(path)
    literal_parts = _PLACEHOLDER.split(path)[::2]
    regex = re.escape(literal_parts[0])
    for name, literal in zip(names, literal_parts[1:], strict=True):
        regex += f"(?P<{name}>[^/]+)" + re.escape(literal)
    return re.compile(f"^{regex}/?$")


@cache
def _path_table() -> dict[str, list[tuple[Operation[Any], re.Pattern[str]]]]:
    table: dict[str, list[Operation[Any]]] = {}
    for operation in OPERATIONS.values():
        table.setdefault(operation.method, []).append(operation)
    # A literal segment beats a placeholder: /inventory/upload/add before /inventory/upload/{id}.
    return {
        method: [
            (op, _pattern_of(op.operation_id))
            for op in sorted(ops, key=lambda op: len(_PLACEHOLDER.findall(op.path)))
        ]
        for method, ops in table.items()
    }
