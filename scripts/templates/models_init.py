"""Pydantic v2 models of every Discogs API object, generated from spec/discogs.yaml.

Each model lives in its own module and is built on first access (`discogs_models.Release`
imports the release model and the models it references, nothing else). Every model is complete
when its module has been imported: its field types are resolved in the generated package, so
what the code that uses it names `Track` or `Image` never changes a parse.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass  # the models, for type checkers

_MODULE_OF: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    # Cached as a module attribute: the next access is a plain lookup.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__: list[str] = []
