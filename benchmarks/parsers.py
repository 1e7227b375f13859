"""How each client turns the bytes of a release response into its own model.

Each function reproduces what the client does with a ``GET /releases/{id}`` body:

- musicagent: one pass from bytes, ``discogs_models.Release.model_validate_json``;
- discogs-sdk: ``response.json()`` then ``Release.model_validate(...)`` (its ``_send`` path);
- python3-discogs-client: ``json.loads`` then ``models.Release(client, dict)`` — a wrapper around
  the dict whose fields are read lazily and untyped, so "construction" is nearly free and the
  dict is all the validation there is;
- json: plain ``json.loads``, the reference (a dict, no model).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["PARSERS", "parser_for"]

PARSERS = ("musicagent", "discogs-sdk", "python3-discogs-client", "json")
"""Names accepted by `parser_for`, in table order."""


def parser_for(name: str) -> Callable[[bytes], Any]:
    """The bytes → model function of one client (imports it on first use)."""
    if name == "musicagent":
        from discogs_models import Release

        return Release.model_validate_json
    if name == "discogs-sdk":
        from discogs_sdk import Release as SdkRelease  # type: ignore[import-not-found, unused-ignore]

        def sdk_parse(body: bytes) -> Any:
            return SdkRelease.model_validate(json.loads(body))

        return sdk_parse
    if name == "python3-discogs-client":
        import discogs_client  # type: ignore[import-untyped, import-not-found, unused-ignore]
        from discogs_client import models  # type: ignore[import-untyped, import-not-found, unused-ignore]

        client = discogs_client.Client("musicagent-benchmarks/1.0")

        def legacy_parse(body: bytes) -> Any:
            return models.Release(client, json.loads(body))

        return legacy_parse
    if name == "json":
        return json.loads
    raise ValueError(f"parser must be one of {', '.join(PARSERS)}, got {name!r}")
