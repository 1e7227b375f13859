"""JSON and JSON Lines exports.

- `JsonExporter` writes one JSON array, item by item: pretty (2-space indent, one item after
  another, exactly what `json.dumps(items, indent=2)` would give) or minified. The opening bracket
  is written first and the closing bracket last, so the array is never held in memory.
- `JsonLinesExporter` writes one compact JSON object per line (`.jsonl`), the format to stream
  into other tools (`jq`, pandas `read_json(lines=True)`, a database loader).

Both write UTF-8 with non-ASCII text as is (no `\\u00e9` escapes) and keep every field the item
has, including fields Discogs added after this release.
"""

from __future__ import annotations

from typing import Any

from musicagent.export.base import Layout, RecordEncoder, StreamExporter
from musicagent.export.records import Record, dump_json

__all__ = ["JsonExporter", "JsonLinesExporter"]

_INDENT = 2


class _JsonArrayEncoder(RecordEncoder):
    def __init__(self, *, pretty: bool) -> None:
        self.pretty = pretty

    def preamble(self) -> bytes:
        return b"["

    def encode(self, record: Record, index: int) -> bytes:
        if not self.pretty:
            text = dump_json(record)
            return (text if index == 0 else "," + text).encode("utf-8")
        # JSON text never holds a raw newline inside a string, so indenting every line by one
        # level nests the item inside the array exactly as json.dumps would.
        text = dump_json(record, indent=_INDENT).replace("\n", "\n  ")
        return (("\n  " if index == 0 else ",\n  ") + text).encode("utf-8")

    def trailer(self, count: int) -> bytes:
        return b"\n]\n" if self.pretty and count else b"]\n"


class JsonExporter(StreamExporter):
    """Export items as one JSON array, written incrementally.

    Args:
        pretty: indent by two spaces, one member per line (default); False writes the whole
            array minified, on one line.
    """

    format_name = "json"
    file_suffix = ".json"

    def __init__(self, *, pretty: bool = True) -> None:
        self.pretty = pretty

    def options(self) -> dict[str, Any]:
        """`{"pretty": …}`."""
        return {"pretty": self.pretty}

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The JSON array encoder; the closing bracket is its trailer."""
        return _JsonArrayEncoder(pretty=self.pretty)


class _JsonLinesEncoder(RecordEncoder):
    def encode(self, record: Record, index: int) -> bytes:
        return (dump_json(record) + "\n").encode("utf-8")


class JsonLinesExporter(StreamExporter):
    """Export items as JSON Lines: one compact JSON object per line, streamed."""

    format_name = "jsonl"
    file_suffix = ".jsonl"

    def staging_encoder(self, layout: Layout) -> RecordEncoder:
        """The JSON Lines encoder (no preamble, no trailer)."""
        return _JsonLinesEncoder()
