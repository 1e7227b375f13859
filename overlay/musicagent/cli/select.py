"""`--select a.b,c`: keep only some dotted paths of a JSON body or of every item of a list.

A path walks mappings by key; where it meets a list it applies to every element, so
`artists.name` on a release keeps the name of each artist. What is kept keeps its shape:
`--select id,artists.name` gives `{"id": 1, "artists": [{"name": "…"}]}`.
"""

from __future__ import annotations

from typing import Any

from musicagent.errors import InvalidParameterError

_MISSING = object()


def parse_paths(text: str) -> list[list[str]]:
    """`"a.b, c"` → `[["a", "b"], ["c"]]`; an empty path is refused, naming the option."""
    paths = []
    for raw in text.split(","):
        parts = raw.strip().split(".")
        if not raw.strip() or any(not p for p in parts):
            raise InvalidParameterError(
                f"--select: {raw.strip()!r} is not a dotted field path",
                parameter="--select",
                allowed="comma-separated dotted paths, e.g. id,title,artists.name",
            )
        paths.append(parts)
    return paths


def _pick(data: Any, path: list[str]) -> Any:
    """The part of `data` on `path`, in its original shape, or `_MISSING`."""
    if not path:
        return data
    if isinstance(data, list):
        picked = [_pick(item, path) for item in data]
        kept = [p for p in picked if p is not _MISSING]
        return kept if kept or not data else _MISSING
    if isinstance(data, dict) and path[0] in data:
        inner = _pick(data[path[0]], path[1:])
        return _MISSING if inner is _MISSING else {path[0]: inner}
    return _MISSING


def _merge(into: Any, part: Any) -> Any:
    if isinstance(into, dict) and isinstance(part, dict):
        for key, value in part.items():
            into[key] = _merge(into[key], value) if key in into else value
        return into
    if isinstance(into, list) and isinstance(part, list) and len(into) == len(part):
        return [_merge(a, b) for a, b in zip(into, part, strict=True)]
    return part


def select(data: Any, paths: list[list[str]]) -> Any:
    """Only the given paths of `data` (a body, or a list of items: each item is selected).

    A path found nowhere is an error naming it and the top-level fields there are, since a
    typo would otherwise print an empty result that looks like missing data.
    """
    result: Any = [{} for _ in data] if isinstance(data, list) else {}
    for path in paths:
        part = _pick(data, path)
        if part is _MISSING:
            sample = data[0] if isinstance(data, list) and data else data
            fields = ", ".join(sorted(sample)) if isinstance(sample, dict) else "none"
            raise InvalidParameterError(
                f"--select: no field {'.'.join(path)!r} in the result",
                parameter="--select",
                allowed=f"fields here: {fields}",
            )
        if isinstance(data, list):
            # Items lacking the path are kept (empty) so positions still line up.
            parts = [_pick(item, path) for item in data]
            result = [
                r if p is _MISSING else _merge(r, p) for r, p in zip(result, parts, strict=True)
            ]
        else:
            result = _merge(result, part)
    return result
