"""Settings of the Discogs sandbox and the fixed credentials it accepts.

Nothing here needs starlette or uvicorn, so the command line and the pytest plugin can read the
defaults without the ``sandbox`` extra installed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OTHER_USERNAMES",
    "SANDBOX_CONSUMER_KEY",
    "SANDBOX_CONSUMER_NAME",
    "SANDBOX_CONSUMER_SECRET",
    "SANDBOX_OAUTH_TOKEN",
    "SANDBOX_OAUTH_TOKEN_SECRET",
    "SANDBOX_TOKEN",
    "SANDBOX_USERNAME",
    "FaultConfig",
    "SandboxConfig",
    "token_for",
]

SANDBOX_USERNAME = "sandbox"
"""The user every sandbox has; its personal token is :data:`SANDBOX_TOKEN`."""

SANDBOX_TOKEN = "sandbox-token"
"""Personal token of the ``sandbox`` user: ``Authorization: Discogs token=sandbox-token``."""

SANDBOX_CONSUMER_KEY = "sandbox-key"
"""Consumer key of the sandbox application (key/secret auth and OAuth 1.0a)."""

SANDBOX_CONSUMER_SECRET = "sandbox-secret"
"""Consumer secret of the sandbox application."""

SANDBOX_CONSUMER_NAME = "MusicAgent Sandbox"
"""Application name reported as ``consumer_name`` by ``GET /oauth/identity``."""

SANDBOX_OAUTH_TOKEN = "sandbox-oauth-token"
"""A ready-made OAuth access token of the ``sandbox`` user (skips the three-legged flow)."""

SANDBOX_OAUTH_TOKEN_SECRET = "sandbox-oauth-secret"
"""Token secret of :data:`SANDBOX_OAUTH_TOKEN`."""

OTHER_USERNAMES = ("vinyl.collector", "crate_digger", "record-shop")
"""The other users of the dataset; each has the personal token ``<username>-token``.

``vinyl.collector`` has a public collection and wantlist, ``crate_digger`` keeps both private,
``record-shop`` is a seller with a larger inventory.
"""


RATE_LIMIT_SCOPES = ("address", "credential")
"""What one rate-limit window can count: the source address (as Discogs) or the credential."""


def token_for(username: str) -> str:
    """The personal token of a dataset user (``sandbox-token``, ``crate_digger-token`` …)."""
    return f"{username}-token"


def _check_probability(name: str, value: float) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability between 0 and 1, got {value!r}")


def _check_non_negative(name: str, value: float | None) -> None:
    if value is not None and (not isinstance(value, int | float) or value < 0):
        raise ValueError(f"{name} must be zero or more, got {value!r}")


@dataclass(frozen=True)
class FaultConfig:
    """Failures the sandbox injects, each drawn reproducibly from ``seed``.

    Whether a request is hit is decided from the seed, the method, the URL and how many times
    that URL was asked for before, so a run gives the same faults whatever the thread
    interleaving.

    Attributes:
        p5xx: fraction of requests answered 500, 502 or 503 (from ``statuses_5xx``).
        statuses_5xx: the server errors to choose from.
        latency: seconds added before every answer.
        p_stall: fraction of requests held ``stall_seconds`` before the answer (longer than a
            client's timeout, so the client gives up).
        stall_seconds: how long a stall lasts.
        p_reset: fraction of responses whose connection is reset (TCP RST) in the middle of
            the body.
        p_truncate: fraction of responses cut short: the headers promise the whole body, half
            of it is sent and the connection is closed.
        p429: fraction of requests that start a burst of ``burst_429`` 429 answers (on top of
            the real rate limit).
        burst_429: length of an injected 429 burst (requests of the same credential).
        retry_after: seconds sent in a ``Retry-After`` header on every 429 (none when None;
            Discogs sends none).
        preset_used: requests "another program" already spent of every credential's budget
            when the sandbox (or these faults) started.
        max_consecutive: after this many faults in a row on one URL the next request for it is
            answered normally (None: no bound).
        seed: seed of the draws; None uses the sandbox's seed.
    """

    p5xx: float = 0.0
    statuses_5xx: tuple[int, ...] = (500, 502, 503)
    latency: float = 0.0
    p_stall: float = 0.0
    stall_seconds: float = 30.0
    p_reset: float = 0.0
    p_truncate: float = 0.0
    p429: float = 0.0
    burst_429: int = 3
    retry_after: float | None = None
    preset_used: int = 0
    max_consecutive: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("p5xx", "p_stall", "p_reset", "p_truncate", "p429"):
            _check_probability(name, getattr(self, name))
        for name in ("latency", "stall_seconds", "retry_after"):
            _check_non_negative(name, getattr(self, name))
        object.__setattr__(self, "statuses_5xx", tuple(int(s) for s in self.statuses_5xx))
        if not self.statuses_5xx or any(not 500 <= s <= 599 for s in self.statuses_5xx):
            raise ValueError(f"statuses_5xx must be 5xx statuses, got {self.statuses_5xx!r}")
        if self.burst_429 < 1:
            raise ValueError(f"burst_429 must be at least 1, got {self.burst_429!r}")
        if self.preset_used < 0:
            raise ValueError(f"preset_used must be zero or more, got {self.preset_used!r}")
        if self.max_consecutive is not None and self.max_consecutive < 1:
            raise ValueError(f"max_consecutive must be at least 1, got {self.max_consecutive!r}")

    @property
    def active(self) -> bool:
        """Whether any fault is switched on."""
        return any(
            (
                self.p5xx,
                self.latency,
                self.p_stall,
                self.p_reset,
                self.p_truncate,
                self.p429,
                self.retry_after is not None,
                self.preset_used,
            )
        )

    def replace(self, **changes: Any) -> FaultConfig:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from a JSON object; unknown keys raise ``ValueError`` naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown fault option(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        values = dict(data)
        if "statuses_5xx" in values:
            values["statuses_5xx"] = tuple(values["statuses_5xx"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict."""
        data = dataclasses.asdict(self)
        data["statuses_5xx"] = list(self.statuses_5xx)
        return data


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox is set up: address, dataset, rate limit and faults.

    Attributes:
        host: address to listen on (loopback by default).
        port: TCP port; 0 picks a free one.
        seed: seed of the generated dataset (same seed, same data).
        collection_size: items in each user's collection (100,000 stays fast: items are made
            on demand).
        wantlist_size: items in each wantlist (None: a fifth of ``collection_size``, at least 10).
        inventory_size: listings in each user's inventory (``record-shop`` has three times as
            many).
        order_count: orders each user has sold.
        list_count: lists each user has made.
        rate_limit: requests per window for an authenticated credential (Discogs: 60).
        anonymous_rate_limit: requests per window without credentials, per IP (Discogs: 25).
        rate_window: length of the moving window in seconds (Discogs: 60).
        rate_grace: a request leaves the window this many seconds early. It absorbs the delay
            between a client's limiter letting a request go and the sandbox reading it (a new
            connection, thread scheduling): without it a client pacing exactly one window apart
            is refused now and then.
        faults: failures to inject (none by default).
        rewrite_urls: serve ``https://api.discogs.com/…`` URLs in bodies as URLs of the sandbox,
            so clients that follow ``resource_url`` stay on it.
        self_check: validate every JSON body served against the bundled spec and count
            mismatches in ``stats()["invalid_bodies"]`` (slower; meant for tests).
        export_delay: seconds an inventory export or upload takes (default 2): it is
            ``pending`` for the first third of that time, ``processing`` for the rest, then
            ``success`` (or ``failure`` for an upload none of whose rows could be applied);
            0 finishes every job at once.
        rate_limit_scope: what one rate-limit window counts: ``address`` (Discogs: every
            request from a source address, whatever credential it carries) or ``credential``
            (one window per credential, for tests that need separate budgets).
    """

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    collection_size: int = 250
    wantlist_size: int | None = None
    inventory_size: int = 120
    order_count: int = 25
    list_count: int = 4
    rate_limit: int = 60
    anonymous_rate_limit: int = 25
    rate_window: float = 60.0
    rate_grace: float = 0.15
    faults: FaultConfig = field(default_factory=FaultConfig)
    rewrite_urls: bool = True
    self_check: bool = False
    export_delay: float = 2.0
    rate_limit_scope: str = "address"

    def __post_init__(self) -> None:
        if self.rate_limit_scope not in RATE_LIMIT_SCOPES:
            raise ValueError(
                f"rate_limit_scope must be one of {', '.join(RATE_LIMIT_SCOPES)}, "
                f"got {self.rate_limit_scope!r}"
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port!r}")
        for name in ("collection_size", "inventory_size", "order_count", "list_count"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more, got {getattr(self, name)!r}")
        if self.wantlist_size is not None and self.wantlist_size < 0:
            raise ValueError(f"wantlist_size must be zero or more, got {self.wantlist_size!r}")
        if self.collection_size > 10_000_000:
            raise ValueError("collection_size must be at most 10,000,000")
        for name in ("rate_limit", "anonymous_rate_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.rate_window <= 0:
            raise ValueError(f"rate_window must be positive, got {self.rate_window!r}")
        _check_non_negative("rate_grace", self.rate_grace)
        _check_non_negative("export_delay", self.export_delay)
        if self.rate_grace >= self.rate_window:
            raise ValueError("rate_grace must be shorter than rate_window")

    @property
    def effective_wantlist_size(self) -> int:
        """Items in each wantlist once the default is applied."""
        if self.wantlist_size is not None:
            return self.wantlist_size
        return max(10, self.collection_size // 5)

    def replace(self, **changes: Any) -> SandboxConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def build(cls, **options: Any) -> SandboxConfig:
        """Config from keyword options; fault options (``p5xx=…``) may be given flat.

        ``SandboxConfig.build(collection_size=1000, p5xx=0.1)`` is
        ``SandboxConfig(collection_size=1000, faults=FaultConfig(p5xx=0.1))``; ``seed`` seeds the
        dataset and ``fault_seed`` the fault draws.
        """
        config_names = {f.name for f in dataclasses.fields(cls)}
        # `seed` is the dataset's; the faults' own seed is spelled `fault_seed` here.
        fault_names = {f.name for f in dataclasses.fields(FaultConfig)} - config_names
        fault_options = {k: options.pop(k) for k in list(options) if k in fault_names}
        if "fault_seed" in options:
            fault_options["seed"] = options.pop("fault_seed")
        unknown = sorted(set(options) - config_names)
        if unknown:
            raise TypeError(
                f"unknown sandbox option(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(config_names | fault_names | {'fault_seed'}))}"
            )
        faults = options.pop("faults", None) or FaultConfig()
        if fault_options:
            faults = faults.replace(**fault_options)
        return cls(faults=faults, **options)
