"""The flattening rule: how a nested Discogs record becomes one row of named scalar columns.

CSV writes every flattened value as text; SQLite keeps them typed. The rule is applied from the
top of the record down, in the record's own key order, and depends on nothing but the record
(and the custom-field names, when given), so the same record always gives the same columns:

- a **scalar** (text, number, `true`/`false`, `null`) is one column named by its dotted path:
  `{"basic_information": {"title": "X"}}` gives `basic_information.title = X`;
- a **nested object** is not a column itself; its members are, under `<key>.`
  (`basic_information.year`); an empty object gives nothing;
- a **list of scalars** (or an empty list) is one column, the items joined with `"; "`:
  `genres = "Electronic; Jazz"`;
- a **custom-field list** — objects holding only `field_id` and `value`, like the `notes` of a
  collection item — is one column per field: `notes.<field name>` when a `{field_id: name}`
  mapping is given (`custom_field_names` builds it from `list_collection_fields`), else
  `notes.<field_id>`;
- **any other list** (objects, nested lists) is two columns: `<key>`, a readable join of each
  element's main field (the first of `name`, `title`, `value`, `username`, `catno`, `id` that is
  set; an element with none of them is written as JSON), separated by the element's `join` when it
  has one (`Kruder & Dorfmeister`, `A, B`) and by `"; "` otherwise; and `<key>_json`, the whole list
  as compact JSON, so nothing is lost.

A column name already taken in the same row (a key that itself contains a dot, `"a.b"` next to
`"a": {"b": …}`) gets `#2`, `#3`, … appended in order of appearance: nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from pydantic import BaseModel

from musicagent.export.records import Record, dump_json

__all__ = [
    "JSON_SUFFIX",
    "LIST_SEPARATOR",
    "MAIN_FIELDS",
    "FieldNames",
    "Flattener",
    "Scalar",
    "add_column",
    "cell_text",
    "custom_field_names",
    "flatten_record",
    "readable_join",
    "schema_columns",
]

#: One flattened value: what a CSV cell or an SQLite column holds.
Scalar = str | int | float | bool | None
#: Names of custom collection fields by field id, e.g. `{1: "Media", 2: "Sleeve", 3: "Notes"}`.
FieldNames = Mapping[int, str] | Mapping[str, str] | Mapping[int | str, str]

#: Joins the items of a list of scalars (`genres`), and elements that carry no `join` of their own.
LIST_SEPARATOR = "; "
#: Which member names an element of a list of objects in its readable column, first match wins.
MAIN_FIELDS = ("name", "title", "value", "username", "catno", "id")
#: Suffix of the column holding a list of objects as JSON.
JSON_SUFFIX = "_json"

_CUSTOM_FIELD_KEYS = frozenset({"field_id", "value"})


def cell_text(value: Scalar | object) -> str:
    """A flattened value as CSV text: `null` is empty, booleans are `true`/`false`."""
    kind = type(value)
    if kind is str:  # the common cases by exact type first: no subclass checks
        return value  # type: ignore[return-value]
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    return str(value)


#: The exact types JSON decodes scalars to: flattened as they are, no `isinstance` needed.
_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar(value: object) -> Scalar:
    """A value that is not a list or object, as a flattened scalar (odd types as their text)."""
    if type(value) in _PLAIN_SCALARS:
        return value  # type: ignore[return-value]
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _is_scalar(value: object) -> bool:
    if type(value) in _PLAIN_SCALARS:
        return True
    return not isinstance(value, Mapping | list | tuple)


def _element_label(element: object) -> str:
    """The readable text of one element of a list of objects: its main field."""
    if type(element) is dict or isinstance(element, Mapping):
        return _main_text(element)
    if isinstance(element, list | tuple):
        return dump_json(element)
    return cell_text(_scalar(element))


def _separator_after(element: object) -> str:
    is_mapping = type(element) is dict or isinstance(element, Mapping)
    join = element.get("join") if is_mapping else None  # type: ignore[attr-defined]
    return _separator_of(join) if isinstance(join, str) else LIST_SEPARATOR


def _separator_of(join: str) -> str:
    """What an element's `join` puts before the next label (`"; "` when it is blank)."""
    word = join.strip()
    if not word:
        return LIST_SEPARATOR
    # Discogs credits read "A, B" and "A & B" / "A Feat. B": a comma hugs the name before it.
    return ", " if word == "," else f" {word} "


def readable_join(elements: Sequence[object]) -> str:
    """The readable column of a list of objects: main fields joined by each element's `join`
    (artist credits: `Kruder & Dorfmeister`) or by `"; "` (`8bitpeoples; Warp`)."""
    parts: list[str] = []
    last = len(elements) - 1
    for index, element in enumerate(elements):
        parts.append(_element_label(element))
        if index < last:
            parts.append(_separator_after(element))
    return "".join(parts)


def _main_text(element: Mapping[str, object]) -> str:
    """The main field of an object as text (`_element_label`), text or a whole number (nearly
    every main field) taken as it is; the whole object as JSON when it has none."""
    for field in MAIN_FIELDS:
        value = element.get(field)
        if value is None or value == "":
            continue
        kind = type(value)
        if kind is str:
            return value  # type: ignore[return-value]
        if kind is int:
            return int.__repr__(value)
        return cell_text(_scalar(value)) if _is_scalar(value) else dump_json(value)
    return dump_json(element)


def _readable_join_objects(elements: list[dict[str, object]]) -> str:
    """`readable_join` of a non-empty list of plain dicts, the same text in fewer steps."""
    if len(elements) == 1:  # most lists: one label, no separator
        text = _main_text(elements[0])
        # Joining makes a `str` of a `str` subclass (a main field of an odd type): so here.
        return text if type(text) is str else "".join((text,))
    parts: list[str] = []
    last = len(elements) - 1
    for index, element in enumerate(elements):
        parts.append(_main_text(element))
        if index < last:
            join = element.get("join")
            if join is None:
                parts.append(LIST_SEPARATOR)
            elif type(join) is str:
                parts.append(_separator_of(join))
            else:
                parts.append(_separator_after(element))
    return "".join(parts)


def _is_custom_field_list(values: Sequence[object]) -> bool:
    return bool(values) and all(
        (type(value) is dict or isinstance(value, Mapping))
        and "field_id" in value
        and value.keys() <= _CUSTOM_FIELD_KEYS
        for value in values
    )


def add_column(row: dict[str, Scalar], name: str, value: Scalar) -> None:
    """Set a column, never overwriting one the row already holds (see the module rule)."""
    if name not in row:
        row[name] = value
        return
    number = 2
    while f"{name}#{number}" in row:
        number += 1
    row[f"{name}#{number}"] = value


def _normalised_names(field_names: FieldNames | None) -> dict[str, str]:
    # Field ids arrive as numbers or strings; look them up by their text either way.
    return {cell_text(key): str(name) for key, name in (field_names or {}).items()}


class Flattener:
    """Applies the flattening rule (see the module docstring) with one set of custom-field names.

    Args:
        field_names: `{field_id: name}` of the user's custom collection fields, so `notes`
            becomes `notes.Media`, `notes.Sleeve` rather than `notes.1`, `notes.2`.
    """

    def __init__(self, field_names: FieldNames | None = None) -> None:
        self.field_names = _normalised_names(field_names)

    def __call__(self, record: Record) -> dict[str, Scalar]:
        """The record as `{column: scalar}`, in the record's key order."""
        row: dict[str, Scalar] = {}
        self._object(row, "", record)
        return row

    def custom_field_column(self, prefix: str, field_id: object) -> str:
        """The column of one custom field: `notes.Media`, or `notes.3` without a name for 3."""
        key = cell_text(_scalar(field_id))
        return f"{prefix}.{self.field_names.get(key, key)}"

    def _object(self, row: dict[str, Scalar], prefix: str, mapping: Mapping[str, Any]) -> None:
        plain = _PLAIN_SCALARS
        for key, value in mapping.items():
            name = f"{prefix}{key}"
            kind = type(value)
            if kind in plain:  # most members: a scalar by exact type, straight into the row
                if name in row:
                    add_column(row, name, value)
                else:
                    row[name] = value
            elif kind is dict:
                self._object(row, f"{name}.", value)
            elif kind is list:
                self._list(row, name, value)
            else:
                self._value(row, name, value)

    def _value(self, row: dict[str, Scalar], name: str, value: object) -> None:
        if isinstance(value, Mapping):
            self._object(row, f"{name}.", value)
        elif isinstance(value, list | tuple):
            self._list(row, name, value)
        else:
            add_column(row, name, _scalar(value))

    def _list(self, row: dict[str, Scalar], name: str, values: Sequence[object]) -> None:
        # What a decoded JSON list holds, settled by exact types: nothing, text (genres), or
        # objects (credits, custom fields), the same type as the first item's for all of them.
        # Anything else (subclasses, tuples, mixed lists, numbers) takes the general rule
        # below, which gives the same columns for these cases too, in more steps.
        if type(values) is list:
            if not values:  # what the general rule makes of an empty list: an empty column
                add_column(row, name, "")
                return
            kind = type(values[0])
            if kind is str or kind is dict:
                for value in values:
                    if type(value) is not kind:
                        break
                else:
                    if kind is str:  # a list of text: genres, styles
                        add_column(row, name, LIST_SEPARATOR.join(values))
                    elif "field_id" in values[0] and _is_custom_field_list(values):
                        self._custom_fields(row, name, values)
                    else:
                        add_column(row, name, _readable_join_objects(values))
                        add_column(row, name + JSON_SUFFIX, dump_json(values))
                    return
        if all(_is_scalar(value) for value in values):
            add_column(
                row, name, LIST_SEPARATOR.join(cell_text(_scalar(value)) for value in values)
            )
        elif _is_custom_field_list(values):
            self._custom_fields(row, name, cast("Sequence[Mapping[str, object]]", values))
        else:
            add_column(row, name, readable_join(values))
            add_column(row, name + JSON_SUFFIX, dump_json(values))

    def _custom_fields(
        self, row: dict[str, Scalar], name: str, notes: Sequence[Mapping[str, object]]
    ) -> None:
        """One column per custom field (`notes.<name>`), the column name and the value taken
        straight when the field id is a whole number and the value a plain scalar (what the
        API sends)."""
        names = self.field_names
        plain = _PLAIN_SCALARS
        for note in notes:
            value = note.get("value")
            field_id = note.get("field_id")
            if type(field_id) is int:
                key = int.__repr__(field_id)  # what cell_text gives for a whole number
                column = f"{name}.{names.get(key, key)}"
            else:
                column = self.custom_field_column(name, field_id)
            if type(value) in plain:
                add_column(row, column, value)  # type: ignore[arg-type]
            else:
                add_column(row, column, _scalar(value) if _is_scalar(value) else dump_json(value))

    def schema_columns(self, schema: Mapping[str, Any] | type[BaseModel]) -> list[str]:
        """The columns the rule gives for every field a JSON schema (or a Pydantic model's
        `model_json_schema()`) declares, in declaration order.

        Objects without declared properties contribute nothing (their members are unknown until
        seen); a custom-field list contributes one column per known field name.
        """
        if isinstance(schema, type):
            schema = schema.model_json_schema(mode="serialization")
        columns: list[str] = []
        _SchemaWalk(schema.get("$defs", {}), self, columns).object(schema, "", ())
        return columns


class _SchemaWalk:
    """Walks a JSON schema the way `Flattener` walks a record (kept apart: schemas have `$ref`s
    and unions, records do not)."""

    def __init__(self, defs: Mapping[str, Any], flattener: Flattener, out: list[str]) -> None:
        self.defs = defs
        self.flattener = flattener
        self.out = out

    def resolve(
        self, node: Mapping[str, Any], path: tuple[str, ...]
    ) -> tuple[Any, tuple[str, ...]]:
        """Follow `$ref`s and drop `null` from unions (a union of several kinds is a scalar)."""
        while True:
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name in path or name not in self.defs:
                    return {}, path  # a recursive or unknown reference: nothing more to list
                node, path = self.defs[name], (*path, name)
                continue
            options = node.get("anyOf") or node.get("oneOf")
            if isinstance(options, list):
                kept = [option for option in options if option.get("type") != "null"]
                if len(kept) != 1:
                    return {}, path
                node = kept[0]
                continue
            return node, path

    def object(self, node: Mapping[str, Any], prefix: str, path: tuple[str, ...]) -> None:
        node, path = self.resolve(node, path)
        for key, child in (node.get("properties") or {}).items():
            self.value(child, f"{prefix}{key}", path)

    def value(self, node: Mapping[str, Any], name: str, path: tuple[str, ...]) -> None:
        node, path = self.resolve(node, path)
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            self.object(node, f"{name}.", path)
        elif kind == "array":
            item, _ = self.resolve(node.get("items") or {}, path)
            properties = item.get("properties") or {}
            if item.get("type") != "object" and not properties:
                self.add(name)
            elif "field_id" in properties and properties.keys() <= _CUSTOM_FIELD_KEYS:
                for field_id in self.flattener.field_names:
                    self.add(self.flattener.custom_field_column(name, field_id))
            else:
                self.add(name)
                self.add(name + JSON_SUFFIX)
        else:
            self.add(name)

    def add(self, column: str) -> None:
        if column not in self.out:
            self.out.append(column)


def flatten_record(record: Record, *, field_names: FieldNames | None = None) -> dict[str, Scalar]:
    """Flatten one record into `{column: scalar}` by the rule of this module.

    >>> flatten_record({"id": 1, "info": {"genres": ["Jazz", "Funk"]}})
    {'id': 1, 'info.genres': 'Jazz; Funk'}
    """
    return Flattener(field_names)(record)


def schema_columns(
    schema: Mapping[str, Any] | type[BaseModel], *, field_names: FieldNames | None = None
) -> list[str]:
    """The flattened columns a model (or JSON schema) declares; see `Flattener.schema_columns`."""
    return Flattener(field_names).schema_columns(schema)


def _field_attr(field: object, name: str) -> object:
    return field.get(name) if isinstance(field, Mapping) else getattr(field, name, None)


def custom_field_names(fields: object) -> dict[int | str, str]:
    """`{field_id: name}` of a user's custom collection fields, for naming `notes.<name>` columns.

    Takes what `client.collection.list_collection_fields(username)` returns (the model or its
    dict, `{"fields": [{"id": 1, "name": "Media"}, …]}`) or the list of fields itself. Two
    fields sharing a name are told apart as `Name (id)`.
    """
    listed = _field_attr(fields, "fields") if not isinstance(fields, list | tuple) else fields
    entries: Iterable[object] = listed if isinstance(listed, list | tuple) else ()
    pairs = [(_field_attr(field, "id"), _field_attr(field, "name")) for field in entries]
    pairs = [(fid, name) for fid, name in pairs if isinstance(fid, int | str) and name]
    counts: dict[str, int] = {}
    for _, name in pairs:
        counts[str(name)] = counts.get(str(name), 0) + 1
    names: dict[int | str, str] = {}
    for fid, name in pairs:
        assert isinstance(fid, int | str)
        text = str(name)
        names[fid] = text if counts[text] == 1 else f"{text} ({fid})"
    return names
