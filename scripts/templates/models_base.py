"""Base classes of every Discogs model: strict where the spec is typed, keep unknown fields,
parse from bytes, dump losslessly.

The models make the same judgement as the spec's JSON Schema, so the default client refuses what
`musicagent validate-response` refuses:

- strict types: no `true` for an integer, no `"12"` for a count, no `1` for a string;
- a field the spec leaves optional but not nullable may be absent (then it reads as `None`), never
  an explicit `null` (`NonNull` below);
- lenient exactly where the spec says so: a `type: [integer, string]` id stays `int | str`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, RootModel, model_validator
from pydantic_core import CoreSchema, PydanticCustomError

T = TypeVar("T")


class _NonNull:
    """Field marker: the field may be absent (default `None`) but an explicit `null` is refused.

    The generator puts it on every optional field whose schema does not admit null. It strips the
    `None` branch from the field's validation schema only; the default is not validated, so an
    absent field still reads as `None` and `to_dict()` leaves it out.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        if schema.get("type") == "nullable":
            inner: CoreSchema = schema["schema"]  # type: ignore[typeddict-item]
            return inner
        return schema

    def __repr__(self) -> str:
        return "NonNull"


NonNull = _NonNull()


def min_properties(count: int) -> Any:
    """A model check for the spec's `minProperties`: a body with fewer members is refused."""

    def check(cls: type[BaseModel], data: Any) -> Any:
        if isinstance(data, Mapping) and len(data) < count:
            raise PydanticCustomError(
                "min_properties",
                "{given} properties, fewer than the {count} the spec requires",
                {"given": len(data), "count": count},
            )
        return data

    validator: Callable[..., Any] = model_validator(mode="before")(check)  # type: ignore[arg-type]
    return validator


def required_any(*alternatives: tuple[str, ...]) -> Any:
    """A model check for an `anyOf` of `required` lists: one of the lists must be all present."""

    def check(cls: type[BaseModel], data: Any) -> Any:
        if isinstance(data, Mapping) and not any(
            all(name in data for name in names) for names in alternatives
        ):
            shown = " or ".join("+".join(names) for names in alternatives)
            raise PydanticCustomError("required_any", "needs {shown}", {"shown": shown})
        return data

    validator: Callable[..., Any] = model_validator(mode="before")(check)  # type: ignore[arg-type]
    return validator


class _Serialising:
    """`from_api_response`, `to_dict` and `to_json`, shared by object and map models."""

    @classmethod
    def from_api_response(cls, data: bytes | bytearray | str | Mapping[str, Any]) -> Self:
        """Build the model from a raw response body (bytes or text) or an already decoded dict."""
        model: Any = cls
        if isinstance(data, bytes | bytearray | str):
            return model.model_validate_json(data)  # type: ignore[no-any-return]
        return model.model_validate(data)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The object as plain JSON-compatible data: exactly the fields received or set."""
        model: Any = self
        return model.model_dump(mode="json", by_alias=True, exclude_unset=True)  # type: ignore[no-any-return]

    def to_json(self, *, indent: int | None = None) -> str:
        """The object as a JSON string, exactly the fields that were received or set."""
        model: Any = self
        return model.model_dump_json(by_alias=True, exclude_unset=True, indent=indent)  # type: ignore[no-any-return]


class DiscogsModel(_Serialising, BaseModel):
    """A Discogs API object.

    Fields Discogs adds after this release are kept (``model.model_extra``) and written back by
    ``to_dict()`` / ``to_json()``, so nothing a newer API sends is dropped on export.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)


class DiscogsRootModel(_Serialising, RootModel[T], Generic[T]):
    """A Discogs map object (e.g. price suggestions keyed by condition), with the same methods."""

    model_config = ConfigDict(strict=True)
