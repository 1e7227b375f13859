"""Base class of every Discogs model: keeps unknown fields, parses from bytes, dumps losslessly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class DiscogsModel(BaseModel):
    """A Discogs API object.

    Fields Discogs adds after this release are kept (``model.model_extra``) and written back by
    ``to_dict()`` / ``to_json()``, so nothing a newer API sends is dropped on export.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @classmethod
    def from_api_response(cls, data: bytes | bytearray | str | Mapping[str, Any]) -> Self:
        """Build the model from a raw response body (bytes or text) or an already decoded dict."""
        if isinstance(data, bytes | bytearray | str):
            return cls.model_validate_json(data)
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        """The object as plain JSON-compatible data: exactly the fields received or set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self, *, indent: int | None = None) -> str:
        """The object as a JSON string, exactly the fields that were received or set."""
        return self.model_dump_json(by_alias=True, exclude_unset=True, indent=indent)
