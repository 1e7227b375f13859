"""Compatibility home of the Discogs sandbox, which now lives in :mod:`discogs_sandbox`.

``from musicagent.testing import Sandbox`` keeps working: every public name is read from
``discogs_sandbox`` on first use. ``import musicagent`` never imports this module, so the client
costs nothing for the sandbox it does not use.
"""

from __future__ import annotations

from typing import Any

import discogs_sandbox

__all__ = list(discogs_sandbox.__all__)


def __getattr__(name: str) -> Any:
    # Lazy, so the server (and starlette, uvicorn) load only when Sandbox or SandboxApp is used.
    if name in __all__:
        return getattr(discogs_sandbox, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
