"""The Discogs OpenAPI description (spec/discogs.yaml) bundled as JSON for runtime validation."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load_spec() -> dict[str, Any]:
    """The OpenAPI document as a dict (loaded once per process)."""
    text = files(__name__).joinpath("openapi.json").read_text(encoding="utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec
