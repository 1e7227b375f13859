"""Run the sandbox: uvicorn in a background thread (tests) or in the foreground (command line).

::

    from discogs_sandbox import Sandbox

    with Sandbox(collection_size=1000, p5xx=0.1) as sandbox:
        client = sandbox.client()
        client.database.get_release(1)
        assert sandbox.stats()["requests"] == 1
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import uvicorn

from discogs_sandbox.app import SandboxApp, credentials_summary
from discogs_sandbox.config import SANDBOX_TOKEN, FaultConfig, SandboxConfig
from discogs_sandbox.state import SandboxState

__all__ = ["Sandbox"]

_START_TIMEOUT = 15.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            family = socket.AF_INET6
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and without
    # it every response (headers, then body) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening at once: connections queue up even before uvicorn starts accepting.
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    return sock


class Sandbox:
    """A local Discogs API on loopback, answering every operation of the spec.

    Give a :class:`SandboxConfig` or its fields as keyword arguments (fault options such as
    ``p5xx=0.1`` may be given flat). ``with Sandbox() as sandbox:`` starts it on a free port in
    a background thread; ``sandbox.base_url`` is where it listens. The user ``sandbox`` has the
    personal token ``sandbox-token``.
    """

    def __init__(self, config: SandboxConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            options = {**{"faults": config.faults}, **options}
            base = {k: getattr(config, k) for k in config.__dataclass_fields__ if k != "faults"}
            config = SandboxConfig.build(**{**base, **options})
        self.config = config if config is not None else SandboxConfig.build(**options)
        self.app = SandboxApp(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # --- life cycle ---------------------------------------------------------------------------

    def _uvicorn(self) -> uvicorn.Server:
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            interface="asgi3",
            timeout_graceful_shutdown=2,
        )
        return uvicorn.Server(config)

    def start(self) -> Self:
        """Start serving in a background thread; returns once connections are accepted."""
        if self._thread is not None:
            return self
        self._socket = _bind(self.config.host, self.config.port)
        self.app.closing.clear()
        self._server = server = self._uvicorn()
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [self._socket]},
            name=f"discogs-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        ready = threading.Event()
        for _ in range(int(_START_TIMEOUT / 0.01)):
            if server.started or not self._thread.is_alive():
                break
            ready.wait(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError("the Discogs sandbox did not start; see the log for the reason")
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.app.closing.set()
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=5.0)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout=5.0)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def serve_forever(self, on_ready: Callable[[Sandbox], None] | None = None) -> None:
        """Serve in the current thread until SIGINT or SIGTERM (the command line uses this).

        ``on_ready`` is called once the port is bound and listening (``base_url`` is final).
        """
        self._socket = _bind(self.config.host, self.config.port)
        try:
            if on_ready is not None:
                on_ready(self)
            self._server = self._uvicorn()
            self._server.run(sockets=[self._socket])
        finally:
            self.app.closing.set()
            self._socket.close()
            self._socket = None
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- where and who ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address listened on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The TCP port (the one picked when the config said 0)."""
        if self._socket is not None:
            return int(self._socket.getsockname()[1])
        return self.config.port

    @property
    def base_url(self) -> str:
        """``http://host:port`` — give it to a client as ``base_url``."""
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        """The personal token of the ``sandbox`` user."""
        return SANDBOX_TOKEN

    @property
    def credentials(self) -> dict[str, Any]:
        """Every fixed credential: users' tokens, consumer key/secret, a ready OAuth token."""
        summary = credentials_summary()
        summary["authorize_url"] = self.base_url + summary["authorize_url"]
        return summary

    @property
    def state(self) -> SandboxState:
        """The live data (thread-safe: hold ``state.lock`` across several reads)."""
        return self.app.state

    # --- counters and faults ------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters: requests, per status, per operation, 429s, faults (as ``/__sandbox/stats``)."""
        return self.app.stats_snapshot()

    def reset(self) -> None:
        """Back to the generated data, zero counters, empty rate windows, configured faults."""
        self.app.reset()

    @property
    def faults(self) -> FaultConfig:
        """The faults in force."""
        return self.app.faults

    def set_faults(self, faults: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Change the faults: a whole :class:`FaultConfig`, or some fields of the current one."""
        new = (faults or self.app.faults).replace(**changes)
        self.app.set_faults(new)
        return new

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self.app.set_faults(FaultConfig())

    @contextlib.contextmanager
    def injecting(self, **changes: Any) -> Iterator[FaultConfig]:
        """Apply faults for the duration of a ``with`` block, then restore the previous ones."""
        previous = self.app.faults
        try:
            yield self.set_faults(**changes)
        finally:
            self.app.set_faults(previous)

    def set_rate_limit(
        self,
        limit: int | None = None,
        *,
        window: float | None = None,
        anonymous_limit: int | None = None,
    ) -> None:
        """Change the rate limit while running."""
        self.app.throttle.configure(limit=limit, anonymous_limit=anonymous_limit, window=window)

    def client(self, **options: Any) -> Any:
        """A :class:`musicagent.Discogs` for this sandbox: its token, its URL, its rate limit.

        The response cache is off (a sandbox is reset between tests; cached pages would outlive
        the data). Keyword options go to ``Discogs(...)`` and win over these defaults.
        """
        import inspect

        from musicagent import Discogs
        from musicagent.ratelimit import RateLimiter
        from musicagent.settings import DiscogsSettings

        defaults: dict[str, Any] = {
            "token": SANDBOX_TOKEN,
            "base_url": self.base_url,
            # The same safety margin as a default client: a loaded machine can delay a request
            # between the limiter letting it go and the sandbox counting it.
            "rate_limiter": RateLimiter(
                self.app.throttle.limit,
                self.app.throttle.window,
                margin=DiscogsSettings.model_fields["rate_limit_margin"].default,
            ),
        }
        if "cache" in inspect.signature(Discogs).parameters:
            defaults["cache"] = False
        if any(k in options for k in ("consumer_key", "oauth")):
            defaults.pop("token")
        return Discogs(**{**defaults, **options})

    def __repr__(self) -> str:
        running = "running" if self._thread is not None else "stopped"
        return f"Sandbox({self.base_url}, {running})"
