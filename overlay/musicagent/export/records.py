"""Turning exported items into plain records: Pydantic models or dicts in, JSON-ready dicts out.

Every exporter accepts the models the client returns (`DiscogsModel.to_dict()` keeps unknown
fields, so nothing a newer API sends is dropped) and plain dicts alike; this module is the one
place that decides how an item becomes a record and how a record becomes JSON text.

A model on its way to a JSON format is not turned into a dict first: `json_bytes` has
pydantic-core write its JSON in one step, byte for byte the text `dump_json(as_record(model))`
gives (the rare float pydantic-core spells differently is caught and written the long way).
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaSerializer

from musicagent.errors import InvalidParameterError

__all__ = [
    "Item",
    "Record",
    "as_record",
    "check_items",
    "dump_json",
    "iter_records",
    "json_bytes",
    "json_lines",
]

#: What an exporter accepts per item: a Pydantic model (any `DiscogsModel`) or a mapping.
Item = BaseModel | Mapping[str, Any]
#: One item as plain JSON-compatible data.
Record = Mapping[str, Any]


def _not_an_item(item: object, index: int) -> InvalidParameterError:
    return InvalidParameterError(
        f"item {index} is a {type(item).__name__}; exporters take Pydantic models or dicts",
        parameter="items",
        allowed="Pydantic models or dicts",
        value=type(item).__name__,
    )


def as_record(item: object, *, index: int = 0) -> Record:
    """One item as a plain mapping: `to_dict()` of a Discogs model, `model_dump` of another
    Pydantic model, a mapping as it is.

    Raises:
        InvalidParameterError: (`items`) when the item is neither a model nor a mapping.
    """
    if type(item) is dict:
        return item
    serializer = _STANDARD.get(type(item))
    if serializer is None:
        if isinstance(item, Mapping):
            return item
        if isinstance(item, BaseModel):
            serializer = _standard_serializer(type(item))
    if serializer is not None:  # what `to_dict()` returns, without its two Python calls
        dumped: Record = serializer.to_python(item, mode="json", by_alias=True, exclude_unset=True)
        return dumped
    if isinstance(item, BaseModel):
        to_dict = getattr(item, "to_dict", None)
        if callable(to_dict):
            record = to_dict()
            if isinstance(record, Mapping):
                return record
        return item.model_dump(mode="json", by_alias=True, exclude_unset=True)
    raise _not_an_item(item, index)


def _check_iterable(items: object) -> Iterable[object]:
    if isinstance(items, Mapping | str | bytes | BaseModel) or not isinstance(items, Iterable):
        raise InvalidParameterError(
            f"items must be an iterable of models or dicts, not one {type(items).__name__}",
            parameter="items",
            allowed="an iterable (list, generator) of Pydantic models or dicts",
            value=type(items).__name__,
        )
    return items


def iter_records(items: Iterable[object]) -> Iterator[Record]:
    """Check items as they stream past and yield each as a record; nothing is read ahead.

    Raises:
        InvalidParameterError: (`items`) at once when `items` is a single mapping, a string or
            not iterable; later, while iterating, for the first item that is neither a model
            nor a mapping.
    """
    checked = _check_iterable(items)
    return (as_record(item, index=index) for index, item in enumerate(checked))


def _checked(items: Iterable[object]) -> Iterator[Item]:
    for index, item in enumerate(items):
        if not isinstance(item, BaseModel | Mapping):
            raise _not_an_item(item, index)
        yield item


def check_items(items: Iterable[object]) -> Iterator[Item]:
    """Like `iter_records`, but yields every item as it is (a model stays a model, for
    `json_bytes`).

    Raises:
        InvalidParameterError: as `iter_records` does.
    """
    return _checked(_check_iterable(items))


def _json_fallback(value: object) -> str:
    # Plain dicts may hold dates, decimals or UUIDs; their text form is what a reader expects
    # in an export, and refusing the whole export over one such value helps nobody.
    return str(value)


#: The compact encoder, built once: `json.dumps` with options builds a new one per call, a cost
#: that shows in CSV exports (a `_json` column per list of objects, several per item).
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_fallback)

#: The C encoder `_COMPACT.encode` builds afresh on every call, built once with the same
#: settings (it writes the same text: it is the same encoder). Without the table of objects
#: being written (`None`): a table kept between calls would keep stale entries after an error,
#: so a circular value ends in `RecursionError` here and is written again by `_COMPACT`, which
#: reports it as before. None when the C accelerator is missing.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_COMPACT_C: Any = (
    _make_encoder(
        None, _json_fallback, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _make_encoder is not None
    else None
)


def dump_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text of a record or value: UTF-8 friendly (no `\\uXXXX` escapes for letters),
    compact unless `indent` is given; values JSON cannot hold are written as their `str()`."""
    if indent is None:
        if _COMPACT_C is None or isinstance(value, str):
            return _COMPACT.encode(value)
        try:
            return "".join(_COMPACT_C(value, 0))
        except RecursionError:  # circular or too deep: the exact path raises what it always did
            return _COMPACT.encode(value)
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_fallback)


#: Floats pydantic-core spells otherwise than Python's `repr` (the same number either way):
#: magnitudes below 1e-4, `0.00001` or `1e-5` where `json.dumps` writes `1e-05`. Text that
#: merely looks like it (a title "0.0000", "Side-1 ") only takes the long way; the output is
#: the same. Each pattern starts with a literal, so the regex engine scans for it at C speed:
#: `e-` appears in nearly every item ("release-123"), and a pattern opening with a character
#: class (a digit before the `e`) would be tried at every byte, costing more than the dump.
_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")
_SMALL_DECIMAL = b"0.0000"
_DIGITS = frozenset(b"0123456789")


def _other_float_spelling(data: bytes) -> bool:
    """Whether `data` may hold a float that pydantic-core spells unlike `json.dumps`."""
    if _SMALL_DECIMAL in data:
        return True
    if _EXPONENT.search(data) is None:  # the common case, one scan at C speed
        return False
    return any(
        match.start() > 0 and data[match.start() - 1] in _DIGITS
        for match in _EXPONENT.finditer(data)
    )


def _standard_to_dict() -> object:
    try:
        from discogs_models._base import DiscogsModel
    except ImportError:  # pragma: no cover - the generated package ships with musicagent
        return None
    return DiscogsModel.to_dict


#: Per model class: its serializer when it dumps the standard way, else None.
_STANDARD: dict[type, SchemaSerializer | None] = {}
_MODEL_DUMP = BaseModel.model_dump


def _standard_serializer(cls: type[BaseModel]) -> SchemaSerializer | None:
    """The serializer whose calls give what `as_record` gives for models of `cls` (its
    `to_python`) and the JSON of that (its `to_json`): when `to_dict` is the one every Discogs
    model has (or there is none) and `model_dump` is pydantic's own, both end in exactly this
    serializer. Not for a model that is also a mapping, which `as_record` takes as it is."""
    try:
        return _STANDARD[cls]
    except KeyError:
        pass
    serializer = getattr(cls, "__pydantic_serializer__", None)
    if not isinstance(serializer, SchemaSerializer):
        return None  # not built yet (a model completed on first use): ask again next time
    to_dict = getattr(cls, "to_dict", None)
    standard = (
        (to_dict is None or to_dict is _standard_to_dict())
        and cls.model_dump is _MODEL_DUMP
        and not issubclass(cls, Mapping)
    )
    _STANDARD[cls] = serializer if standard else None
    return _STANDARD[cls]


def json_lines(items: Sequence[Item]) -> bytes:
    """JSON Lines of a batch of items: exactly ``b"".join(json_bytes(i) + b"\\n" for i in items)``.

    The float-spelling scan runs once over the whole batch rather than once per item; only
    when it finds something are the items looked at one by one (a match in an item is a match
    in the batch: items are joined by a newline, which no pattern spans).
    """
    parts: list[bytes] = []
    direct: list[int] = []
    last_type: type | None = None
    serializer: SchemaSerializer | None = None
    for position, item in enumerate(items):
        if type(item) is not last_type:
            last_type = type(item)
            serializer = _standard_serializer(type(item)) if isinstance(item, BaseModel) else None
        if serializer is None:
            parts.append(json_bytes(item))
            continue
        direct.append(position)
        parts.append(serializer.to_json(item, by_alias=True, exclude_unset=True))
    parts.append(b"")
    joined = b"\n".join(parts)
    if not direct or not _other_float_spelling(joined):
        return joined
    for position in direct:
        if _other_float_spelling(parts[position]):
            parts[position] = json_bytes(items[position])  # the exact path, rare
    return b"\n".join(parts)


def json_bytes(item: Item, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON of one item, exactly `dump_json(as_record(item), indent=indent)` encoded.

    A model is serialised by pydantic-core directly (no dict in between, no second encoder);
    a mapping, or a model with a `to_dict` of its own, goes through `dump_json`.
    """
    if isinstance(item, BaseModel):
        serializer = _standard_serializer(type(item))
        if serializer is not None:
            data = serializer.to_json(item, indent=indent, by_alias=True, exclude_unset=True)
            if not _other_float_spelling(data):
                return data
    return dump_json(as_record(item), indent=indent).encode("utf-8")
