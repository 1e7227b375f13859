"""How each Discogs operation is answered: a row of :data:`READS` for a plain read, a handler
in :data:`HANDLERS` where state changes or a rule needs logic, else the spec's example."""

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
from discogs_sandbox.endpoints.reads import FINDERS, READS
from discogs_sandbox.endpoints.registry import HANDLERS, Call, Handler, Reply, handles

__all__ = ["FINDERS", "HANDLERS", "READS", "Call", "Handler", "Reply", "handles"]
