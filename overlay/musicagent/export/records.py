"""Turning exported items into plain records: Pydantic models or dicts in, JSON-ready dicts out.

Every exporter accepts the models the client returns (`DiscogsModel.to_dict()` keeps unknown
fields, so nothing a newer API sends is dropped) and plain dicts alike; this module is the one
place that decides how an item becomes a record and how a record becomes JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from musicagent.errors import InvalidParameterError

__all__ = ["Item", "Record", "as_record", "dump_json", "iter_records"]

#: What an exporter accepts per item: a Pydantic model (any `DiscogsModel`) or a mapping.
Item = BaseModel | Mapping[str, Any]
#: One item as plain JSON-compatible data.
Record = Mapping[str, Any]


def as_record(item: object, *, index: int = 0) -> Record:
    """One item as a plain mapping: `to_dict()` of a Discogs model, `model_dump` of another
    Pydantic model, a mapping as it is.

    Raises:
        InvalidParameterError: (`items`) when the item is neither a model nor a mapping.
    """
    if isinstance(item, Mapping):
        return item
    if isinstance(item, BaseModel):
        to_dict = getattr(item, "to_dict", None)
        if callable(to_dict):
            record = to_dict()
            if isinstance(record, Mapping):
                return record
        return item.model_dump(mode="json", by_alias=True, exclude_unset=True)
    raise InvalidParameterError(
        f"item {index} is a {type(item).__name__}; exporters take Pydantic models or dicts",
        parameter="items",
        allowed="Pydantic models or dicts",
        value=type(item).__name__,
    )


def iter_records(items: Iterable[object]) -> Iterator[Record]:
    """Check items as they stream past and yield each as a record; nothing is read ahead.

    Raises:
        InvalidParameterError: (`items`) at once when `items` is a single mapping, a string or
            not iterable; later, while iterating, for the first item that is neither a model
            nor a mapping.
    """
    if isinstance(items, Mapping | str | bytes | BaseModel) or not isinstance(items, Iterable):
        raise InvalidParameterError(
            f"items must be an iterable of models or dicts, not one {type(items).__name__}",
            parameter="items",
            allowed="an iterable (list, generator) of Pydantic models or dicts",
            value=type(items).__name__,
        )
    return (as_record(item, index=index) for index, item in enumerate(items))


def _json_fallback(value: object) -> str:
    # Plain dicts may hold dates, decimals or UUIDs; their text form is what a reader expects
    # in an export, and refusing the whole export over one such value helps nobody.
    return str(value)


def dump_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text of a record or value: UTF-8 friendly (no `\\uXXXX` escapes for letters),
    compact unless `indent` is given; values JSON cannot hold are written as their `str()`."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_fallback)
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_fallback)
