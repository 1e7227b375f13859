"""Every Discogs operation as the facade calls it, each built on first use.

One module per resource group (`database`, `marketplace`, ...) holds one cached function per
operation; `OPERATIONS` is a read-only mapping over all of them that knows every operation id
up front (membership, iteration and length build nothing) and builds an `Operation` only when
it is looked up, importing that operation's request builder and models then.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .._operation import Operation

GROUP_OF: dict[str, str] = {}


class _OperationTable(Mapping[str, Operation[Any]]):
    """Operation id → `Operation`, built on lookup."""

    __slots__ = ()

    def __getitem__(self, operation_id: str) -> Operation[Any]:
        group = GROUP_OF[operation_id]
        module = importlib.import_module(f"{__name__}.{group}")
        build: Any = getattr(module, operation_id)
        operation: Operation[Any] = build()
        return operation

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in GROUP_OF

    def __iter__(self) -> Iterator[str]:
        return iter(GROUP_OF)

    def __len__(self) -> int:
        return len(GROUP_OF)

    def __repr__(self) -> str:
        return f"<{len(GROUP_OF)} Discogs operations>"


OPERATIONS: Mapping[str, Operation[Any]] = _OperationTable()
"""Every operation by its id (`OPERATIONS["get_release"]`)."""

__all__ = ["GROUP_OF", "OPERATIONS"]
