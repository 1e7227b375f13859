"""Choosing an exporter by format name: `exporter_for("csv", excel=True)`."""

from __future__ import annotations

from typing import Any

from musicagent.errors import InvalidParameterError
from musicagent.export.base import Exporter
from musicagent.export.csv_exporter import CsvExporter
from musicagent.export.json_exporters import JsonExporter, JsonLinesExporter
from musicagent.export.sqlite_exporter import SqliteExporter

__all__ = ["FORMATS", "exporter_for"]

#: Every export format by name.
FORMATS: dict[str, type[Exporter]] = {
    "csv": CsvExporter,
    "json": JsonExporter,
    "jsonl": JsonLinesExporter,
    "sqlite": SqliteExporter,
}

# Describing the items is harmless for formats that write them whole, so callers (the command
# line) may pass these to every format; any other option must belong to the format chosen.
_DESCRIPTIVE = ("item_model", "field_names")
_OPTIONS: dict[str, tuple[str, ...]] = {
    "csv": ("excel", "columns", "item_model", "field_names", "sample_size", "formula_guard"),
    "json": ("pretty",),
    "jsonl": (),
    "sqlite": ("table", "key", "item_model", "field_names"),
}


def exporter_for(format: str, **options: Any) -> Exporter:
    """The exporter of a format — `csv`, `json`, `jsonl` or `sqlite` — set up with its options.

    Options: `csv`: `excel`, `columns`, `item_model`, `field_names`, `sample_size`,
    `formula_guard`;
    `json`: `pretty`; `sqlite`: `table`, `key`, `item_model`, `field_names`. `item_model` and
    `field_names` are accepted (and ignored) by the JSON formats, which write items whole.

    Raises:
        InvalidParameterError: (`format`) for an unknown format, naming the allowed ones;
            (the option's name) for an option the format does not take.
    """
    name = format.strip().lower() if isinstance(format, str) else format
    exporter_class = FORMATS.get(name) if isinstance(name, str) else None
    if exporter_class is None or not isinstance(name, str):
        raise InvalidParameterError(parameter="format", allowed=list(FORMATS), value=format)
    accepted = _OPTIONS[name]
    for option in options:
        if option not in accepted and option not in _DESCRIPTIVE:
            raise InvalidParameterError(
                f"the {name} format takes no option {option!r}; "
                f"its options: {', '.join(accepted) or 'none'}",
                parameter=option,
                allowed=list(accepted),
                value=options[option],
            )
    kept = {option: value for option, value in options.items() if option in accepted}
    return exporter_class(**kept)
