"""Validate Discogs response bodies against the OpenAPI description.

This is what `musicagent validate-response` and the client's strict mode use: find the operation a
concrete request path belongs to, pick the response schema for a status, and report every mismatch
as a JSON pointer with a message.

Each response schema is compiled once (jsonschema-rs, JSON Schema 2020-12) and kept, so checking a
body costs a few microseconds: cheap enough to leave strict mode on in CI. The generated Pydantic
models make the same judgement (strict types, no null where the spec says non-null); the one
difference JSON itself allows is `1.0` for an integer, which JSON Schema calls an integer and the
models refuse (Discogs never sends one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

if TYPE_CHECKING:
    import jsonschema_rs

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Problem:
    """One place where a body does not match the schema."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


@dataclass(frozen=True)
class OperationMatch:
    """The operation a concrete method and path resolve to."""

    operation_id: str
    method: str
    path_template: str
    path_params: dict[str, str]
    operation: Mapping[str, Any]


class UnknownOperationError(LookupError):
    """No operation of the spec answers this method and path."""


class UnknownStatusError(LookupError):
    """The operation documents no response for this status."""


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}/?$")


def json_pointer(path: Iterator[Any] | Any) -> str:
    """Render a jsonschema error path as an RFC 6901 JSON pointer."""
    tokens = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(tokens) if tokens else ""


class SpecValidator:
    """Response validation driven by one loaded OpenAPI document (a dict)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    @cached_property
    def _routes(self) -> list[tuple[int, re.Pattern[str], str]]:
        routes = []
        for template in self.spec.get("paths") or {}:
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            routes.append((literal, _template_regex(template), template))
        # Most literal characters first, so /inventory/export beats /inventory/{x}-like templates.
        routes.sort(key=lambda r: -r[0])
        return routes

    def operations(self) -> Iterator[OperationMatch]:
        """Every operation in the spec, in document order."""
        for template, item in (self.spec.get("paths") or {}).items():
            for method in _METHODS:
                if method in item:
                    op = item[method]
                    yield OperationMatch(op["operationId"], method.upper(), template, {}, op)

    @cached_property
    def _by_id(self) -> dict[str, OperationMatch]:
        return {op.operation_id: op for op in self.operations()}

    def operation_by_id(self, operation_id: str) -> OperationMatch:
        """Look an operation up by its operationId."""
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise UnknownOperationError(f"no operation with operationId {operation_id!r}") from None

    def match(self, method: str, url_or_path: str) -> OperationMatch:
        """Find the operation for a concrete path (`/releases/1`) or a full URL."""
        path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?")[0]
        path = "/" + path.strip("/")
        method_l = method.lower()
        path_matched = False
        for _, regex, template in self._routes:
            m = regex.match(path)
            if not m:
                continue
            path_matched = True
            item = self.spec["paths"][template]
            if method_l in item:
                op = item[method_l]
                return OperationMatch(
                    op["operationId"], method.upper(), template, m.groupdict(), op
                )
        if path_matched:
            raise UnknownOperationError(f"{method.upper()} is not an operation on {path}")
        raise UnknownOperationError(f"no operation matches the path {path}")

    def response_schema_pointer(
        self, op: OperationMatch, status: int, media_type: str = "application/json"
    ) -> str | None:
        """JSON pointer (inside the spec) of the body schema for a status, or None for no body."""
        responses = op.operation.get("responses", {})
        key = next(
            (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses),
            None,
        )
        if key is None:
            raise UnknownStatusError(
                f"{op.operation_id} documents no response for status {status}"
                f" (documented: {', '.join(responses)})"
            )
        response = responses[key]
        if "$ref" in response:
            ref = response["$ref"]
            response = self._resolve(ref)
            base = ref[1:]
        else:
            tmpl = op.path_template.replace("~", "~0").replace("/", "~1")
            base = f"/paths/{tmpl}/{op.method.lower()}/responses/{key}"
        content = response.get("content") or {}
        if not content:
            return None
        chosen = media_type if media_type in content else next(iter(content))
        if "schema" not in content[chosen]:
            return None
        return f"{base}/content/{chosen.replace('/', '~1')}/schema"

    def _resolve(self, ref: str) -> Any:
        node: Any = self.spec
        for token in ref.lstrip("#/").split("/"):
            key = token.replace("~1", "/").replace("~0", "~")
            # Pointers into parameter lists carry an index.
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def validator_for(self, schema_pointer: str) -> jsonschema_rs.Validator:
        """The compiled validator of the schema at a pointer inside the spec (compiled once)."""
        validator = self._validators.get(schema_pointer)
        if validator is None:
            # The schema itself as the root, with the components its $refs point into beside it.
            root = {
                "$schema": _DRAFT,
                "components": self.spec.get("components", {}),
                **self._resolve("#" + schema_pointer),
            }
            import jsonschema_rs  # only once a body is checked against the spec

            validator = jsonschema_rs.validator_for(root, validate_formats=False)
            self._validators[schema_pointer] = validator
        return validator

    def is_valid(self, schema_pointer: str, body: Any) -> bool:
        """Whether a decoded body matches the schema at a pointer (the fast check)."""
        return bool(self.validator_for(schema_pointer).is_valid(body))

    def validate_schema(self, schema_pointer: str, body: Any) -> list[Problem]:
        """Every mismatch between a body and the schema at a pointer, sorted by location."""
        validator = self.validator_for(schema_pointer)
        if validator.is_valid(body):
            return []
        problems = {
            Problem(json_pointer(e.instance_path), e.message) for e in validator.iter_errors(body)
        }
        return sorted(problems, key=lambda p: (p.pointer, p.message))

    def unknown_fields(self, schema_pointer: str, body: Any) -> list[str]:
        """Members of a body the schema does not describe, as pointers with `*` for list items.

        The drift signal: a field real bodies carry that the spec has not named yet.
        """
        found: set[str] = set()
        self._walk_unknown(self._resolve("#" + schema_pointer), body, "", found)
        return sorted(found)

    def _walk_unknown(self, schema: Any, body: Any, at: str, found: set[str]) -> None:
        schema = self._deref(schema)
        if not isinstance(schema, Mapping):
            return
        branches = [self._deref(s) for k in ("oneOf", "anyOf") for s in schema.get(k, [])]
        if branches:
            matching = [b for b in branches if _shallow_match(b, body)]
            for branch in matching[:1]:
                self._walk_unknown(branch, body, at, found)
        if isinstance(body, Mapping):
            props: dict[str, Any] = dict(schema.get("properties", {}))
            for member in schema.get("allOf", []):
                props.update(self._deref(member).get("properties", {}))
            extra = schema.get("additionalProperties")
            if not props and not isinstance(extra, Mapping):
                return
            for key, value in body.items():
                pointer = f"{at}/{_escape(str(key))}"
                if key in props:
                    self._walk_unknown(props[key], value, pointer, found)
                elif isinstance(extra, Mapping):
                    self._walk_unknown(extra, value, f"{at}/*", found)
                elif not branches:
                    found.add(pointer)
        elif isinstance(body, list) and isinstance(schema.get("items"), Mapping):
            for item in body:
                self._walk_unknown(schema["items"], item, f"{at}/*", found)

    def _deref(self, schema: Any) -> Any:
        while isinstance(schema, Mapping) and "$ref" in schema:
            schema = self._resolve(schema["$ref"])
        return schema

    def validate_response(
        self, method: str, url_or_path: str, status: int, body: Any
    ) -> tuple[OperationMatch, list[Problem]]:
        """Match the operation and validate a decoded JSON body for a status."""
        op = self.match(method, url_or_path)
        pointer = self.response_schema_pointer(op, status)
        if pointer is None:
            if body in (None, "", {}):
                return op, []
            return op, [Problem("", f"{op.operation_id} documents no body for status {status}")]
        return op, self.validate_schema(pointer, body)

    def response_schema_name(self, op: OperationMatch, status: int) -> str | None:
        """Name of the components/schemas entry a response body refers to, if any."""
        pointer = self.response_schema_pointer(op, status)
        if pointer is None:
            return None
        schema = self._resolve("#" + pointer)
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[1]
        return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _shallow_match(schema: Mapping[str, Any], body: Any) -> bool:
    """Whether a oneOf/anyOf branch is the one a body took, judged by its JSON type."""
    kinds = schema.get("type")
    if kinds is None:
        return True
    names = kinds if isinstance(kinds, list) else [kinds]
    checks = {
        "object": lambda v: isinstance(v, Mapping),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "null": lambda v: v is None,
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    return any(checks.get(name, lambda v: False)(body) for name in names)


@cache
def bundled_validator() -> SpecValidator:
    """The validator of the spec bundled with this package (loaded once)."""
    from discogs_spec import load_spec

    return SpecValidator(load_spec())


def model_for(schema_name: str) -> type[BaseModel] | None:
    """The generated Pydantic model named after a components/schemas entry, if there is one."""
    import discogs_models

    model = getattr(discogs_models, schema_name, None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def parse_problems(
    validator: SpecValidator, op: OperationMatch, status: int, body: Any
) -> list[Problem]:
    """Parse a body into the operation's Pydantic model; each parsing failure as a Problem."""
    name = validator.response_schema_name(op, status)
    model = model_for(name) if name else None
    if model is None:
        return []
    try:
        model.model_validate(body)
    except PydanticValidationError as exc:
        return [
            Problem(json_pointer(err["loc"]), f"model {name}: {err['msg']}") for err in exc.errors()
        ]
    return []
