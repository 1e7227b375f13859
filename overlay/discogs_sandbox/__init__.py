"""A local Discogs API for tests, demos and benchmarks: a server that behaves like the real one.

::

    from discogs_sandbox import Sandbox

    with Sandbox() as sandbox:                       # a free port on 127.0.0.1
        client = sandbox.client()                    # token "sandbox-token", sandbox's URL
        print(client.database.get_release(1).title)

Every operation of ``spec/discogs.yaml`` is answered with bodies that match the spec, from a
generated dataset (same ``seed``, same data) plus the documentation's examples. Writes persist
while the server runs. Discogs' rules apply: credentials, owner-only resources, the
moving-window rate limit with its headers, paging, error bodies. Faults can be injected
(:class:`FaultConfig`). Needs the ``sandbox`` extra: ``pip install 'musicagent[sandbox]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from discogs_sandbox.config import (
    OTHER_USERNAMES,
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    SANDBOX_USERNAME,
    FaultConfig,
    SandboxConfig,
    token_for,
)

if TYPE_CHECKING:
    from discogs_sandbox.app import SandboxApp
    from discogs_sandbox.server import Sandbox

INSTALL_HINT = "the Discogs sandbox needs starlette and uvicorn: pip install 'musicagent[sandbox]'"
"""What to tell someone whose environment lacks the ``sandbox`` extra."""

__all__ = [
    "INSTALL_HINT",
    "OTHER_USERNAMES",
    "SANDBOX_CONSUMER_KEY",
    "SANDBOX_CONSUMER_SECRET",
    "SANDBOX_OAUTH_TOKEN",
    "SANDBOX_OAUTH_TOKEN_SECRET",
    "SANDBOX_TOKEN",
    "SANDBOX_USERNAME",
    "FaultConfig",
    "Sandbox",
    "SandboxApp",
    "SandboxConfig",
    "token_for",
]


def __getattr__(name: str) -> Any:
    # The server pulls in starlette and uvicorn (the optional extra); import it on first use so
    # the settings above stay usable, and say how to install what is missing.
    if name in ("Sandbox", "SandboxApp"):
        try:
            from discogs_sandbox import app, server
        except ModuleNotFoundError as exc:
            if exc.name in ("starlette", "uvicorn"):
                raise ModuleNotFoundError(INSTALL_HINT, name=exc.name) from exc
            raise
        return server.Sandbox if name == "Sandbox" else app.SandboxApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
