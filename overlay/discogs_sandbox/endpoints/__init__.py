"""Handlers of every Discogs operation, registered by operationId in :data:`HANDLERS`."""

from __future__ import annotations

from discogs_sandbox.endpoints import (  # noqa: F401  (each module registers its handlers)
    collection,
    database,
    inventory,
    marketplace,
    oauth,
    users,
    wantlist,
)
from discogs_sandbox.endpoints.registry import HANDLERS, Call, Handler, Reply, handles

__all__ = ["HANDLERS", "Call", "Handler", "Reply", "handles"]
