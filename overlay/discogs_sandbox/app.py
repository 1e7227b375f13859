"""The sandbox as an ASGI application: Discogs' rules around a starlette app of every operation.

Routes come from the spec's paths (``discogs_spec.load_spec()``), one per path, each sending
the request to the handler registered for its operationId. Around them
:class:`SandboxApp` applies what Discogs does to every request, in this order:

1. ``/__sandbox/…`` control endpoints and the ``/oauth/authorize`` page bypass everything;
   ``OPTIONS`` is a CORS preflight answered at once; a trailing slash is the same path;
2. a request without ``User-Agent`` gets an empty 200 (Discogs "returns an empty response");
3. credentials are checked (a bad one ends in a 401 after rate limiting, like any request);
4. the moving-window rate limit per source address (429 ``You are making requests too
   quickly.``), shared by every credential sent from it;
5. injected faults: 429 bursts, latency, stalls, 5xx answers;
6. the generic core (:mod:`discogs_sandbox.spec_core`) checks the caller against the
   operation's ``security`` and the parameters and body against their schemas, then a
   plain read is answered from its row of the reads table (look up, build, page), a
   hand-written handler runs where state changes or a rule needs logic, and otherwise the
   spec's example or a body built from its schema answers; its body may then be cut short or
   its connection reset. ``HEAD`` is ``GET`` without the body; ``?callback=`` wraps the answer
   as JSONP.

Every answer carries ``X-Discogs-Ratelimit``, ``-Used`` and ``-Remaining`` and
``Access-Control-Allow-Origin: *``.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from discogs_spec import load_spec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from discogs_sandbox.catalogue import ARTIST_COUNT, LABEL_COUNT, RELEASE_COUNT
from discogs_sandbox.config import (
    OTHER_USERNAMES,
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_NAME,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    SANDBOX_USERNAME,
    FaultConfig,
    SandboxConfig,
    token_for,
)
from discogs_sandbox.credentials import Principal, resolve_principal
from discogs_sandbox.endpoints import FINDERS, HANDLERS, READS, Call, Reply
from discogs_sandbox.endpoints.inventory import settle_uploads
from discogs_sandbox.endpoints.registry import dataset_reply
from discogs_sandbox.faults import FaultInjector, FaultPlan
from discogs_sandbox.reading import answer
from discogs_sandbox.rules import MESSAGES, ApiError
from discogs_sandbox.seeding import API_ROOT
from discogs_sandbox.spec_core import SpecCore
from discogs_sandbox.state import SandboxState
from discogs_sandbox.stats import SandboxStats
from discogs_sandbox.throttle import Budget, RequestThrottle
from musicagent.validation import UnknownOperationError, UnknownStatusError

__all__ = ["SandboxApp", "spec_routes"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_INFO = "musicagent.sandbox"
_METHODS = ("get", "put", "post", "delete")
_SERVER_ERRORS = {
    500: "An internal server error occurred.",
    502: "Bad Gateway: the upstream server did not answer.",
    503: "Service Unavailable: please try again later.",
}
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "Link, Location, X-Discogs-Ratelimit, X-Discogs-Ratelimit-Used, "
        "X-Discogs-Ratelimit-Remaining"
    ),
}
_PREFLIGHT = {
    **_CORS,
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, User-Agent, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,99}$")
_MARKUP = re.compile(r"\[(/?)([biu])\]")
_LINK_MARKUP = re.compile(r"\[([alr])=([^\]\"\\]*)\]")


def spec_routes(spec: dict[str, Any] | None = None) -> list[tuple[str, dict[str, str]]]:
    """(path template, {HTTP method: operationId}) for every path of the spec.

    Sorted with the most literal paths first, so ``/inventory/upload/add`` is tried before
    ``/inventory/upload/{id}``.
    """
    routes = []
    for template, item in (spec or load_spec())["paths"].items():
        methods = {m.upper(): item[m]["operationId"] for m in _METHODS if m in item}
        routes.append((template, methods))
    routes.sort(key=lambda r: -len(re.sub(r"\{[^}]+\}", "", r[0])))
    return routes


@dataclass
class RequestInfo:
    """What the outer layer learnt about a request, handed to the route via the ASGI scope."""

    body: bytes
    base_url: str
    principal: Principal
    auth_error: ApiError | None = None
    operation_id: str | None = None


@dataclass
class Captured:
    """A response produced by the inner starlette app, held back so faults can alter it."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def send(self, message: Message) -> None:
        """The ASGI ``send`` given to the inner app: keeps status, headers and body."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))


class SandboxApp:
    """The whole sandbox as one ASGI app; ``state``, ``stats``, ``faults`` are live objects."""

    def __init__(
        self, config: SandboxConfig | None = None, spec: dict[str, Any] | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self.core = SpecCore(spec or load_spec())
        """The compiled spec every request is routed, checked and answered by."""
        self.state = SandboxState(self.config)
        self.stats = SandboxStats()
        self.throttle = RequestThrottle(
            self.config.rate_limit,
            self.config.anonymous_rate_limit,
            self.config.rate_window,
            grace=self.config.rate_grace,
        )
        self.injector = FaultInjector(self.config.faults, self.config.seed)
        if self.config.faults.preset_used:
            self.throttle.preset(self.config.faults.preset_used)
        self.closing = threading.Event()
        """Set when the server shuts down: stalled requests stop waiting."""
        self.api = Starlette(
            routes=[
                Route(template, self._endpoint(methods), methods=list(methods))
                for template, methods in spec_routes(dict(self.core.spec))
            ],
            exception_handlers={HTTPException: self._http_exception},
        )

    # --- faults and control -------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        """The faults in force."""
        return self.injector.faults

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch to other faults (draws start over; ``preset_used`` is spent at once)."""
        self.injector.configure(faults)
        if faults.preset_used:
            self.throttle.preset(faults.preset_used)

    def reset(self) -> None:
        """Back to the starting point: data, counters, rate windows and the configured faults."""
        self.state.reset()
        self.stats.reset()
        self.throttle.reset()
        self.throttle.configure(
            limit=self.config.rate_limit,
            anonymous_limit=self.config.anonymous_rate_limit,
            window=self.config.rate_window,
        )
        self.set_faults(self.config.faults)

    def _operation_id(self, method: str, path: str) -> str | None:
        try:
            return self.core.match(method, path)[0].operation_id
        except UnknownOperationError:
            return None

    def _rate_key(self, principal: Principal) -> str:
        """What one rate-limit window counts: the source address, as Discogs documents."""
        if self.config.rate_limit_scope == "credential":
            return principal.rate_key
        return f"ip:{principal.client}"

    def stats_snapshot(self) -> dict[str, Any]:
        """Counters plus the rate limit and faults in force."""
        snapshot = self.stats.snapshot()
        snapshot["rate_limit"] = {
            "limit": self.throttle.limit,
            "anonymous_limit": self.throttle.anonymous_limit,
            "window": self.throttle.window,
            "max_used": dict(self.throttle.max_used),
        }
        snapshot["fault_config"] = self.faults.to_dict()
        return snapshot

    # --- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)  # lifespan: starlette answers it
            return
        path: str = scope["path"]
        if path.startswith("/__sandbox"):
            await self._control(scope, receive, send)
            return
        if len(path) > 1 and path.endswith("/"):
            # Discogs answers /releases/1/ as /releases/1: no redirect, one request counted.
            scope = {**scope, "path": path.rstrip("/") or "/"}
            path = scope["path"]
        if scope["method"] == "OPTIONS":
            await _read_body(receive)
            await _send_plain(send, 204, b"", _PREFLIGHT, None)
            return
        body = await _read_body(receive)
        headers = _headers(scope)
        base_url = f"{scope.get('scheme', 'http')}://{headers.get('host') or _server(scope)}"
        if path.rstrip("/") == "/oauth/authorize":
            await self._authorize_page(scope, send)
            return
        await self._api_request(scope, send, body, headers, base_url)

    async def _api_request(
        self, scope: Scope, send: Send, body: bytes, headers: dict[str, str], base_url: str
    ) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        signed_method = method  # what an OAuth signature was made over
        head = method == "HEAD"
        if head:
            # HEAD is GET without the body, as HTTP says; the route and checks are GET's.
            scope = {**scope, "method": "GET"}
            method = "GET"
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        client = (scope.get("client") or ("unknown", 0))[0]
        routed = self.core.routed_method(method, path)
        if routed != method:
            scope = {**scope, "method": routed}
            method = routed
        operation_id = self._operation_id(method, path)
        if not headers.get("user-agent", "").strip():
            # Discogs' FAQ: no User-Agent, empty response. Nothing is counted against the limit.
            self.stats.empty_user_agent()
            budget = self.throttle.peek(f"ip:{client}", False)
            await _send_plain(send, 200, b"", budget.headers(), None)
            return
        url = base_url + path + (f"?{query_string}" if query_string else "")
        auth_error: ApiError | None = None
        try:
            principal = resolve_principal(
                self.state,
                method=signed_method,
                url=url,
                headers=headers,
                query=query,
                body=body,
                client=client,
            )
        except ApiError as exc:
            principal, auth_error = Principal("anonymous", client=client), exc
        budget = self.throttle.hit(self._rate_key(principal), principal.authenticated)
        send = _decorating(send, head=head, callback=query.get(self.core.jsonp_parameter))
        if not budget.allowed:
            self.stats.rate_limited()
            await self._too_many(send, operation_id, budget)
            return
        if path == "/" and method == "GET":
            self.stats.request(None, 200)
            await _send_plain(
                send, 200, json.dumps(_about()).encode(), budget.headers(), "application/json"
            )
            return
        plan = self.injector.plan(
            method, path + (f"?{query_string}" if query_string else ""), principal.rate_key
        )
        if plan.throttled:
            self.stats.fault("429")
            await self._too_many(send, operation_id, budget)
            return
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if plan.stall:
            self.stats.fault("stall")
            await self._stall(faults.stall_seconds)
        if plan.status_5xx:
            self.stats.fault("5xx")
            error = ApiError(plan.status_5xx, _SERVER_ERRORS.get(plan.status_5xx, "Server error."))
            await self._send_error(send, error, budget, operation_id, method, path)
            return
        info = RequestInfo(body, base_url, principal, auth_error, operation_id)
        scope[_INFO] = info
        captured = Captured()
        await self.api(scope, _replay(body), captured.send)
        response_headers = [
            (k, v) for k, v in captured.headers if k.lower() not in (b"content-length",)
        ]
        content = bytes(captured.body)
        content = self._format_text(content, captured.headers, headers.get("accept", ""))
        response_headers += [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in budget.headers().items()
        ]
        self._self_check(method, path, captured.status, content, captured.headers)
        self.stats.request(info.operation_id or operation_id, captured.status)
        await self._deliver(send, captured.status, response_headers, content, plan)

    # --- the inner starlette endpoints --------------------------------------------------------

    def _endpoint(self, methods: dict[str, str]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            info: RequestInfo = request.scope[_INFO]
            operation_id = methods[request.method]
            info.operation_id = operation_id
            try:
                if info.auth_error is not None:
                    raise info.auth_error
                rules = self.core.operations[operation_id]
                path_params = {k: str(v) for k, v in request.path_params.items()}
                headers = {k.lower(): v for k, v in request.headers.items()}
                principal = info.principal
                self.core.authorize(
                    rules,
                    authenticated=principal.authenticated,
                    username=principal.username,
                    path_params=path_params,
                    user_exists=lambda name: self.state.user(name) is not None,
                )
                query_items = self.core.parameters(
                    rules, path_params, request.query_params.multi_items(), headers
                )
                self.core.check_body(rules, headers.get("content-type", ""), info.body)
                call = Call(
                    operation_id=operation_id,
                    method=request.method,
                    path=request.url.path,
                    path_params=path_params,
                    query_items=query_items,
                    headers=headers,
                    body=info.body,
                    principal=info.principal,
                    base_url=info.base_url,
                    state=self.state,
                    config=self.config,
                    rules=rules,
                )
                handler = HANDLERS.get(operation_id)
                read = READS.get(operation_id)
                with self.state.lock:
                    settle_uploads(self.state)
                    if handler is not None:
                        reply = handler(call)
                    elif read is not None:
                        reply = answer(call, read, FINDERS)
                    else:
                        reply = dataset_reply(call, self.core.fallback_body(rules))
            except ApiError as exc:
                reply = Reply(exc.status, exc.body(), exc.headers)
            return self._render(reply, info.base_url)

        return endpoint

    def _render(self, reply: Reply, base_url: str) -> Response:
        media_type: str | None
        if reply.body is None:
            content, media_type = b"", None
        elif isinstance(reply.body, bytes):
            content, media_type = reply.body, reply.media_type
        else:
            text = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":"))
            if self.config.rewrite_urls:
                text = text.replace(API_ROOT, base_url)
            content, media_type = text.encode("utf-8"), "application/json"
        response = Response(content, status_code=reply.status, headers=reply.headers)
        if media_type:
            response.headers["content-type"] = media_type
        return response

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        message = MESSAGES["not_found"] if status == 404 else "The method is not allowed here."
        return Response(
            json.dumps({"message": message}),
            status_code=status,
            media_type="application/json",
        )

    # --- answers made outside the operations --------------------------------------------------

    async def _too_many(self, send: Send, operation_id: str | None, budget: Budget) -> None:
        limited = Budget(False, budget.limit, budget.limit, 0)
        headers = limited.headers()
        if self.faults.retry_after is not None:
            headers["Retry-After"] = f"{self.faults.retry_after:g}"
        self.stats.request(operation_id, 429)
        await _send_plain(
            send,
            429,
            json.dumps({"message": MESSAGES["too_many"]}).encode(),
            headers,
            "application/json",
        )

    async def _send_error(
        self,
        send: Send,
        error: ApiError,
        budget: Budget,
        operation_id: str | None,
        method: str,
        path: str,
    ) -> None:
        content = json.dumps(error.body()).encode()
        self._self_check(
            method, path, error.status, content, [(b"content-type", b"application/json")]
        )
        self.stats.request(operation_id, error.status)
        await _send_plain(
            send, error.status, content, {**error.headers, **budget.headers()}, "application/json"
        )

    async def _stall(self, seconds: float) -> None:
        # Short naps, so a shutting-down server is not held up by a stalled request.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closing.is_set() and loop.time() < deadline:
            await asyncio.sleep(min(0.05, deadline - loop.time()))

    async def _deliver(
        self,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        content: bytes,
        plan: FaultPlan,
    ) -> None:
        broken = "reset" if plan.reset else "truncate" if plan.truncate else None
        if broken is None or len(content) < 2:
            if status not in (204, 304):
                headers = [*headers, (b"content-length", str(len(content)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content, "more_body": False})
            return
        self.stats.fault(broken)
        # The headers promise the whole body; half of it arrives, then the connection ends.
        headers = [*headers, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": content[: len(content) // 2], "more_body": True}
        )
        await _break_connection(send, reset=broken == "reset")

    def _format_text(
        self, content: bytes, headers: list[tuple[bytes, bytes]], accept: str
    ) -> bytes:
        """Apply the ``Accept`` text format: Discogs markup (default), HTML or plain text."""
        if b"[" not in content or not any(
            k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in headers
        ):
            return content
        accept = accept.lower()
        if "plaintext+json" in accept:
            text = _MARKUP.sub("", content.decode("utf-8"))
            return _LINK_MARKUP.sub(r"\2", text).encode("utf-8")
        if "html+json" in accept:
            text = _MARKUP.sub(r"<\1\2>", content.decode("utf-8"))
            return _LINK_MARKUP.sub(r'<a href=\\"/\1/\2\\">\2</a>', text).encode("utf-8")
        return content

    def _self_check(
        self,
        method: str,
        path: str,
        status: int,
        content: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        if not self.config.self_check:
            return
        is_json = any(
            k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in headers
        )
        body: Any = None
        if is_json:
            try:
                body = json.loads(content)
            except ValueError:
                self.stats.invalid_body(method, path, status, "body is not JSON")
                return
        elif content and status not in (304,):
            return  # CSV, form-encoded OAuth answers: not JSON bodies
        try:
            _, problems = self.core.validator.validate_response(method, path, status, body)
        except (UnknownOperationError, UnknownStatusError) as exc:
            self.stats.invalid_body(method, path, status, str(exc))
            return
        if problems:
            self.stats.invalid_body(method, path, status, str(problems[0]))

    # --- the authorize page and the control endpoints -----------------------------------------

    async def _authorize_page(self, scope: Scope, send: Send) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        token = query.get("oauth_token", "")
        username = query.get("user") or SANDBOX_USERNAME
        user = self.state.user(username)
        record = self.state.authorize_request_token(token, user.username) if user else None
        if record is None or record.verifier is None:
            await _send_plain(
                send, 400, b"Unknown or expired oauth_token.\n", {}, "text/plain; charset=utf-8"
            )
            return
        text = (
            f"{SANDBOX_CONSUMER_NAME} is now authorized to act as {record.username}.\n"
            f"Enter this verifier in the application: {record.verifier}\n"
            f"oauth_verifier={record.verifier}\n"
        ).encode()
        if record.callback and record.callback != "oob":
            separator = "&" if "?" in record.callback else "?"
            target = (
                record.callback
                + separator
                + urlencode({"oauth_token": record.token, "oauth_verifier": record.verifier})
            )
            await _send_plain(send, 302, text, {"Location": target}, "text/plain; charset=utf-8")
            return
        await _send_plain(send, 200, text, {}, "text/plain; charset=utf-8")

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"].rstrip("/")
        body = await _read_body(receive)
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            result = self._control_action(method, path, payload)
        except (ValueError, TypeError) as exc:
            await _send_json(send, 422, {"message": str(exc)})
            return
        except LookupError:
            await _send_json(send, 404, {"message": f"no control endpoint {method} {path}"})
            return
        await _send_json(send, 200, result)

    def _control_action(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if (method, path) == ("GET", "/__sandbox/stats"):
            return self.stats_snapshot()
        if (method, path) == ("POST", "/__sandbox/reset"):
            self.reset()
            return {"reset": True}
        if path == "/__sandbox/faults":
            if method == "POST":
                merged = {**self.faults.to_dict(), **payload}
                self.set_faults(FaultConfig.from_mapping(merged))
            elif method == "DELETE":
                self.set_faults(FaultConfig())
            elif method != "GET":
                raise LookupError(path)
            return self.faults.to_dict()
        if (method, path) == ("POST", "/__sandbox/rate-limit"):
            unknown = set(payload) - {"limit", "anonymous_limit", "window"}
            if unknown:
                raise ValueError(f"unknown rate-limit option(s): {', '.join(sorted(unknown))}")
            self.throttle.configure(
                limit=_positive(payload, "limit", int),
                anonymous_limit=_positive(payload, "anonymous_limit", int),
                window=_positive(payload, "window", float),
            )
            return self.stats_snapshot()["rate_limit"]
        if (method, path) in (("GET", "/__sandbox"), ("GET", "/__sandbox/credentials")):
            return credentials_summary()
        raise LookupError(path)


def credentials_summary() -> dict[str, Any]:
    """The fixed users and credentials of every sandbox (``GET /__sandbox``)."""
    return {
        "users": {
            name: {"token": token_for(name)} for name in (SANDBOX_USERNAME, *OTHER_USERNAMES)
        },
        "token": SANDBOX_TOKEN,
        "consumer_key": SANDBOX_CONSUMER_KEY,
        "consumer_secret": SANDBOX_CONSUMER_SECRET,
        "oauth_token": SANDBOX_OAUTH_TOKEN,
        "oauth_token_secret": SANDBOX_OAUTH_TOKEN_SECRET,
        "authorize_url": "/oauth/authorize",
    }


def _positive(payload: dict[str, Any], name: str, kind: type) -> Any:
    if payload.get(name) is None:
        return None
    value = kind(payload[name])
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def _about() -> dict[str, Any]:
    """``GET /``: the API's greeting, which clients' ``about()`` calls read."""
    return {
        "hello": "Welcome to the Discogs API.",
        "api_version": "v2",
        "documentation_url": "https://www.discogs.com/developers/",
        "statistics": {"releases": RELEASE_COUNT, "artists": ARTIST_COUNT, "labels": LABEL_COUNT},
    }


def _decorating(send: Send, *, head: bool, callback: str | None) -> Send:
    """``send`` that adds the CORS headers, drops a HEAD answer's body and applies JSONP."""
    jsonp = callback is not None and _CALLBACK.match(callback) is not None
    started: dict[str, Any] = {}

    async def decorated(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
            headers += [(k.lower().encode(), v.encode()) for k, v in _CORS.items()]
            message = {**message, "headers": headers}
            if jsonp:
                started.update(message)  # held until the body is known
                return
        elif message["type"] == "http.response.body" and jsonp:
            started.setdefault("body", bytearray()).extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            await _send_jsonp(send, started, str(callback), head)
            return
        if head and message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    # Fault injection reaches the connection through the server's own ``send`` method.
    setattr(decorated, "__self__", getattr(send, "__self__", None))  # noqa: B010
    return decorated


async def _send_jsonp(send: Send, started: dict[str, Any], callback: str, head: bool) -> None:
    """The documented JSONP shape: 200, ``text/javascript``, ``callback({meta, data})``."""
    raw_headers: list[tuple[bytes, bytes]] = started.get("headers", [])
    content = bytes(started.get("body", b""))
    meta: dict[str, Any] = {"status": started.get("status", 200)}
    for name, value in raw_headers:
        lowered = name.decode("latin-1").lower()
        if lowered.startswith("x-discogs-ratelimit") or lowered in ("link", "location"):
            meta[name.decode("latin-1")] = value.decode("latin-1")
    try:
        data: Any = json.loads(content) if content else None
    except ValueError:
        data = content.decode("utf-8", "replace")
    text = f"{callback}({json.dumps({'meta': meta, 'data': data}, ensure_ascii=False)})"
    payload = text.encode("utf-8")
    headers = [
        (k, v)
        for k, v in raw_headers
        if k.lower() not in (b"content-type", b"content-length", b"location")
    ]
    headers += [
        (b"content-type", b"text/javascript; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _server(scope: Scope) -> str:
    host, port = scope.get("server") or ("127.0.0.1", 80)
    return f"{host}:{port}"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send_plain(
    send: Send, status: int, content: bytes, headers: dict[str, str], media_type: str | None
) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if media_type:
        raw.append((b"content-type", media_type.encode("latin-1")))
    raw.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content, "more_body": False})


async def _send_json(send: Send, status: int, body: Any) -> None:
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await _send_plain(send, status, content, {}, "application/json")


class DeliberateDisconnect(Exception):
    """Raised to make the server drop a connection when its transport cannot be reached."""


async def _break_connection(send: Send, *, reset: bool) -> None:
    """End the connection mid-body: a TCP reset, or a clean close that leaves the body short."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise DeliberateDisconnect("fault injection: connection dropped mid-body")
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 turns the close into a reset (RST) instead of an orderly FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let the server notice the disconnect before the app returns, so it logs nothing.
    for _ in range(200):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.001)
