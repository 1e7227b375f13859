"""Validate Discogs response bodies against the OpenAPI description.

This is what `musicagent validate-response` and the client's strict mode use: find the operation a
concrete request path belongs to, pick the response schema for a status, and report every mismatch
as a JSON pointer with a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_SPEC_URI = "urn:musicagent:discogs-openapi"
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
        resource: Resource[Any] = Resource.from_contents(
            dict(spec), default_specification=DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}

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

    def operation_by_id(self, operation_id: str) -> OperationMatch:
        """Look an operation up by its operationId."""
        for op in self.operations():
            if op.operation_id == operation_id:
                return op
        raise UnknownOperationError(f"no operation with operationId {operation_id!r}")

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
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def validator_for(self, schema_pointer: str) -> Draft202012Validator:
        """A cached validator for the schema at a pointer inside the spec."""
        if schema_pointer not in self._validators:
            self._validators[schema_pointer] = Draft202012Validator(
                {"$ref": f"{_SPEC_URI}#{schema_pointer}"}, registry=self._registry
            )
        return self._validators[schema_pointer]

    def validate_schema(self, schema_pointer: str, body: Any) -> list[Problem]:
        """Every mismatch between a body and the schema at a pointer, sorted by location."""
        errors = sorted(
            self.validator_for(schema_pointer).iter_errors(body),
            key=lambda e: (json_pointer(e.absolute_path), e.message),
        )
        return [_problem(e) for e in errors]

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


def _problem(error: ValidationError) -> Problem:
    # For oneOf/anyOf failures the most specific sub-error is the useful one.
    if error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) > len(error.absolute_path):
            return Problem(json_pointer(deepest.absolute_path), deepest.message)
    return Problem(json_pointer(error.absolute_path), error.message)


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
