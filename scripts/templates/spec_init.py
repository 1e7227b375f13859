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


def example_names() -> list[str]:
    """File names of the documentation example bodies attached to the spec."""
    folder = files(__name__).joinpath("examples")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_example(name: str) -> Any:
    """One documentation example body (e.g. `releases_get_200.json`), decoded."""
    text = files(__name__).joinpath("examples", name).read_text(encoding="utf-8")
    return json.loads(text)
