"""The generic core: every operation routed, checked and answered from the OpenAPI description.

In the manner of stripe-mock and Prism, nothing here knows a Discogs endpoint by name. For each
operation of the spec :class:`SpecCore` compiles, once:

- who may call it, from the operation's ``security``: ``{}`` admits anonymous callers,
  ``DiscogsKeySecret`` admits an application without a user, ``DiscogsToken``/``OAuth1`` alone
  need a user; an operation that needs a user, has a ``{username}`` path parameter and documents
  a 403 is the owner's only;
- its parameters, validated with jsonschema validators compiled from the spec's own schemas
  (the ones the client validates its arguments with) after the wire strings are read as the
  schema's type; enum values match case-insensitively and are handed on in the spec's spelling,
  as Discogs accepts ``curr_abbr=eur`` and ``status=for sale``;
- its JSON request body, validated against the request body schema;
- whether it is a paginated list (its success schema has ``pagination`` and one array);
- a fallback answer: the spec's example body for the success status, or a body built from
  the success schema, so a read operation added to the spec is answered without a handler.

Failures are :class:`ApiError` with Discogs' statuses: 401 (with the challenge header), 403,
404 for a path value that is not one (the message of the spec's 404 example where it has one),
422 naming the query parameter and what it allows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jsonschema_rs
from discogs_spec import load_example

from discogs_sandbox.rules import MESSAGES, ApiError, forbidden, unauthorized
from musicagent.validation import SpecValidator, UnknownOperationError

__all__ = ["OperationRules", "Parameter", "SpecCore", "spec_enum", "synthesize"]

_METHODS = ("get", "put", "post", "delete")
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Parameter:
    """One path, query or header parameter of an operation, with its compiled schema."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    validator: jsonschema_rs.Validator

    @cached_property
    def enum(self) -> tuple[Any, ...]:
        """The allowed values, when the schema is an enum (or any of its alternatives is)."""
        values = list(self.schema.get("enum") or ())
        for member in self.schema.get("anyOf") or self.schema.get("oneOf") or ():
            values += [value for value in member.get("enum") or () if value not in values]
        return tuple(values)

    @property
    def kind(self) -> str:
        """The JSON type of the schema (``string`` when the schema does not say)."""
        kind = self.schema.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        return str(kind)


@dataclass(frozen=True)
class OperationRules:
    """What the spec says about one operation, compiled for the sandbox."""

    operation_id: str
    method: str
    template: str
    anonymous: bool
    app_allowed: bool
    owner_only: bool
    parameters: tuple[Parameter, ...]
    body_pointer: str | None
    body_media_type: str | None
    success_status: int
    success_pointer: str | None
    items_key: str | None
    example_name: str | None
    not_found_message: str
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    user_schemes: bool = False
    """Whether its ``security`` names the personal token (a user's own credential)."""

    also_accepts: tuple[str, ...] = ()
    """Other methods Discogs answers as this one (``x-musicagent-also-accepts``)."""

    @property
    def user_required(self) -> bool:
        """Whether only a user's credential (token or OAuth) may call it.

        The OAuth token endpoints name OAuth1 alone: they are signed before there is a user,
        and their handlers check which step of the flow signed them.
        """
        return not self.anonymous and not self.app_allowed and self.user_schemes

    def parameter(self, name: str) -> Parameter | None:
        """The parameter of that name, if the operation has it."""
        return next((p for p in self.parameters if p.name == name), None)

    def enum(self, name: str) -> tuple[Any, ...]:
        """The allowed values of a parameter (empty when it is not an enum)."""
        parameter = self.parameter(name)
        return parameter.enum if parameter is not None else ()


class SpecCore:
    """Every operation of one OpenAPI document, compiled for routing, checking and answering."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.validator = SpecValidator(spec)
        self.operations: dict[str, OperationRules] = {}
        for template, item in (spec.get("paths") or {}).items():
            for method in _METHODS:
                if method in item:
                    rules = self._compile(template, method, item)
                    self.operations[rules.operation_id] = rules

    # --- compiling ----------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref`` pointers until a node that is not a reference."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            target: Any = self.spec
            for token in node["$ref"].lstrip("#/").split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _parameter_pointer(self, raw: Mapping[str, Any], where: str) -> str:
        # The schema's place inside the spec, so the `$ref`s inside it resolve there.
        ref = raw.get("$ref")
        while isinstance(ref, str):
            where = ref[1:]
            ref = self.resolve({"$ref": ref}).get("$ref")
        return f"{where}/schema"

    def _compile(self, template: str, method: str, item: Mapping[str, Any]) -> OperationRules:
        op = item[method]
        security = op.get("security", self.spec.get("security")) or [{}]
        schemes = {name for requirement in security for name in requirement}
        anonymous = any(not requirement for requirement in security)
        app_allowed = anonymous or "DiscogsKeySecret" in schemes
        responses = op.get("responses") or {}
        owner_only = (
            not app_allowed
            and "DiscogsToken" in schemes
            and "{username}" in template
            and any(k == "403" for k in responses)
        )
        tmpl = template.replace("~", "~0").replace("/", "~1")
        placed = [
            *(
                (raw, f"/paths/{tmpl}/parameters/{n}")
                for n, raw in enumerate(item.get("parameters", []))
            ),
            *(
                (raw, f"/paths/{tmpl}/{method}/parameters/{n}")
                for n, raw in enumerate(op.get("parameters", []))
            ),
        ]
        parameters = []
        for raw, where in placed:
            parameter = self.resolve(raw)
            schema = dict(self.resolve(parameter.get("schema") or {}))
            for key in ("anyOf", "oneOf"):
                if key in schema:
                    schema[key] = [self.resolve(member) for member in schema[key]]
            parameters.append(
                Parameter(
                    name=parameter["name"],
                    location=parameter["in"],
                    required=bool(parameter.get("required")),
                    schema=schema,
                    validator=self.validator.validator_for(self._parameter_pointer(raw, where)),
                )
            )
        body_pointer = body_media = None
        body = self.resolve(op.get("requestBody")) if op.get("requestBody") else None
        if body:
            body_media = next(iter(body.get("content") or {}), None)
            if body_media == "application/json":
                ref = body["content"][body_media].get("schema", {}).get("$ref")
                body_pointer = (
                    ref[1:]
                    if isinstance(ref, str)
                    else f"/paths/{tmpl}/{method}/requestBody/content/application~1json/schema"
                )
        success = sorted(int(k) for k in responses if k.isdigit() and 200 <= int(k) < 300)
        success_status = success[0] if success else 200
        match = self.validator.operation_by_id(op["operationId"])
        success_pointer = self.validator.response_schema_pointer(match, success_status)
        success_schema = (
            self.resolve(self.validator._resolve("#" + success_pointer))
            if success_pointer
            else None
        )
        return OperationRules(
            operation_id=op["operationId"],
            method=method.upper(),
            template=template,
            anonymous=anonymous,
            app_allowed=app_allowed,
            owner_only=owner_only,
            parameters=tuple(parameters),
            body_pointer=body_pointer,
            body_media_type=body_media,
            success_status=success_status,
            success_pointer=success_pointer,
            items_key=self._items_key(success_schema),
            example_name=self._example(responses.get(str(success_status))),
            not_found_message=self._not_found_message(responses.get("404")),
            raw=op,
            user_schemes="DiscogsToken" in schemes,
            also_accepts=tuple(m.upper() for m in op.get("x-musicagent-also-accepts") or ()),
        )

    def _items_key(self, schema: Any) -> str | None:
        if not isinstance(schema, Mapping):
            return None
        properties = self._properties(schema)
        if "pagination" not in properties:
            return None
        arrays = [
            name
            for name, sub in properties.items()
            if name != "pagination" and self._type_of(self.resolve(sub)) in ("array", "object")
        ]
        return arrays[0] if len(arrays) == 1 else None

    def _properties(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = dict(schema.get("properties") or {})
        for part in schema.get("allOf") or ():
            properties.update(self._properties(self.resolve(part)))
        return properties

    @staticmethod
    def _type_of(schema: Any) -> str | None:
        kind = schema.get("type") if isinstance(schema, Mapping) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        return kind if isinstance(kind, str) else None

    def _example(self, response: Any) -> str | None:
        response = self.resolve(response) if response else None
        for content in ((response or {}).get("content") or {}).values():
            for example in (content.get("examples") or {}).values():
                value = self.resolve(example).get("externalValue")
                if isinstance(value, str) and value.startswith("examples/"):
                    return value.removeprefix("examples/")
        return None

    def _not_found_message(self, response: Any) -> str:
        name = self._example(response) if response else None
        if name:
            with_message = load_example(name)
            if isinstance(with_message, Mapping) and isinstance(with_message.get("message"), str):
                return str(with_message["message"])
        return MESSAGES["not_found"]

    # --- routing ------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[OperationRules, dict[str, str]]:
        """The operation and path values of a request (a trailing slash is the same path)."""
        found = self.validator.match(method, path)
        return self.operations[found.operation_id], found.path_params

    def routed_method(self, method: str, path: str) -> str:
        """The method a request is answered as: its own, or the one whose operation also
        accepts it (``POST /oauth/request_token`` is its GET, as on Discogs)."""
        try:
            self.validator.match(method, path)
        except UnknownOperationError:
            for other in self.allowed_methods(path):
                if method in self.match(other, path)[0].also_accepts:
                    return other
        return method

    @property
    def jsonp_parameter(self) -> str:
        """The query parameter that asks for JSONP (the spec's ``info.x-jsonp-parameter``)."""
        return str((self.spec.get("info") or {}).get("x-jsonp-parameter") or "callback")

    def allowed_methods(self, path: str) -> list[str]:
        """The methods the spec has for a concrete path (empty when no path matches)."""
        methods = []
        for method in _METHODS:
            try:
                self.validator.match(method, path)
            except UnknownOperationError:
                continue
            methods.append(method.upper())
        return methods

    # --- checks -------------------------------------------------------------------------------

    def authorize(
        self,
        rules: OperationRules,
        *,
        authenticated: bool,
        username: str | None,
        path_params: Mapping[str, str],
        user_exists: Callable[[str], bool],
    ) -> None:
        """401 or 403 as the operation's ``security`` says for this caller."""
        if not rules.anonymous and not authenticated:
            raise unauthorized(f"{rules.operation_id} needs a credential")
        if rules.user_required and username is None:
            raise unauthorized(f"{rules.operation_id} needs a user: a personal token or OAuth")
        if rules.owner_only:
            owner = path_params.get("username", "")
            # An unknown user is the handler's 404, as on Discogs.
            if user_exists(owner) and (username or "").lower() != owner.lower():
                raise forbidden()

    def parameters(
        self,
        rules: OperationRules,
        path_params: Mapping[str, str],
        query_items: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
    ) -> list[tuple[str, str]]:
        """Check every parameter against its schema; the query items with enums canonical."""
        for in_path in rules.parameters:
            if in_path.location == "path" and in_path.name in path_params:
                value = self.read(in_path, path_params[in_path.name])
                if value is _INVALID or next(in_path.validator.iter_errors(value), None):
                    raise ApiError(404, rules.not_found_message)
        canonical: list[tuple[str, str]] = []
        for name, raw in query_items:
            parameter = rules.parameter(name)
            if parameter is None or parameter.location != "query" or raw == "":
                canonical.append((name, raw))
                continue
            value = self.read(parameter, raw)
            if value is _INVALID or next(parameter.validator.iter_errors(value), None):
                raise ApiError(422, f"Invalid {name}: expected {describe(parameter)}.")
            canonical.append((name, value if isinstance(value, str) else raw))
        return canonical

    @staticmethod
    def read(parameter: Parameter, raw: str) -> Any:
        """A wire string as the schema's type; an enum value in the spec's own spelling."""
        if parameter.enum:
            for choice in parameter.enum:
                if str(choice).casefold() == raw.strip().casefold():
                    return choice
        kind = parameter.kind
        try:
            if kind == "integer":
                return int(raw)
            if kind == "number":
                number = float(raw)
                return _INVALID if math.isnan(number) else number
        except ValueError:
            return _INVALID
        if kind == "boolean":
            lowered = raw.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            return _INVALID
        return raw

    def check_body(self, rules: OperationRules, content_type: str, body: bytes) -> None:
        """422 when a JSON body does not match the operation's request body schema."""
        if rules.body_pointer is None or "json" not in content_type or not body.strip():
            return
        try:
            decoded = json.loads(body)
        except ValueError:
            raise ApiError(422, MESSAGES["malformed"]) from None
        errors = [
            error
            for error in self.validator.validator_for(rules.body_pointer).iter_errors(decoded)
            if not _number_as_text(error)
        ]
        if errors:
            error = min(errors, key=lambda e: [str(p) for p in e.instance_path])
            field = str(error.instance_path[0]) if error.instance_path else "body"
            raise ApiError(422, f"Invalid {field}: {error.message}.")

    # --- answers ------------------------------------------------------------------------------

    def fallback_body(self, rules: OperationRules) -> Any:
        """The spec's example of the success body, else a body built from its schema."""
        if rules.example_name:
            return load_example(rules.example_name)
        if rules.success_pointer is None:
            return None
        return synthesize(self.validator._resolve("#" + rules.success_pointer), self.resolve)


def spec_enum(schema_name: str) -> tuple[str, ...]:
    """The values of an enum of the bundled spec's ``components/schemas`` (never restated)."""
    from discogs_spec import load_spec

    return tuple(load_spec()["components"]["schemas"][schema_name]["enum"])


def _keyword(error: jsonschema_rs.ValidationError) -> str:
    """The schema keyword an error is about (`type`, `required`…)."""
    return str(error.schema_path[-1]) if error.schema_path else ""


def _number_as_text(error: jsonschema_rs.ValidationError) -> bool:
    """Whether an error is only a number sent as a string (``"release_id": "10"``).

    Discogs reads such values as the number they spell, and clients send them.
    """
    if _keyword(error) != "type" or not isinstance(error.instance, str):
        return False
    wanted = list(getattr(error.kind, "types", []))
    if not {"integer", "number"} & set(wanted):
        return False
    try:
        float(error.instance)
    except ValueError:
        return False
    return "number" in wanted or error.instance.strip().lstrip("-").isdigit()


class _Invalid:
    """A wire value that cannot be read as its schema's type."""


_INVALID = _Invalid()


def describe(parameter: Parameter) -> str:
    """What a parameter accepts, in words (``one of: USD, GBP``, ``an integer from 1 to 100``)."""
    if parameter.enum:
        return "one of " + ", ".join(str(v) for v in parameter.enum)
    words = {"integer": "an integer", "number": "a number", "boolean": "true or false"}
    text = words.get(parameter.kind, "a string")
    low, high = parameter.schema.get("minimum"), parameter.schema.get("maximum")
    if low is not None and high is not None:
        return f"{text} from {low} to {high}"
    if low is not None:
        return f"{text} of at least {low}"
    return text


def synthesize(schema: Any, resolve: Callable[[Any], Any], depth: int = 0) -> Any:
    """A small value that matches a schema: what an operation without data answers."""
    schema = resolve(schema)
    if not isinstance(schema, Mapping):
        return None
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            first = resolve(schema[key][0])
            rest = {name: value for name, value in schema.items() if name != key}
            if "type" in rest or "properties" in rest:
                # Alternatives that only constrain the object around them (which fields are
                # required): build the object with the first alternative's requirements.
                needed = [*rest.get("required", ()), *first.get("required", ())]
                return synthesize({**rest, **first, "required": needed}, resolve, depth)
            return synthesize(first, resolve, depth)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = synthesize(part, resolve, depth)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        if depth >= _MAX_DEPTH:
            return {}
        required = set(schema.get("required") or ())
        return {
            name: synthesize(sub, resolve, depth + 1)
            for name, sub in (schema.get("properties") or {}).items()
            if name in required or depth < 2
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [synthesize(schema.get("items", {}), resolve, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    if kind == "string":
        return {"date-time": "2024-06-01T12:00:00-07:00", "uri": "https://api.discogs.com/"}.get(
            str(schema.get("format")), "x" * int(schema.get("minLength", 0))
        )
    return None
