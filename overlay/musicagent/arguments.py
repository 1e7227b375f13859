"""Argument checks compiled once per operation: plain Python tests, jsonschema only to explain.

Every facade call checks its arguments against the spec's schemas before anything is sent. The
schemas are constants, so each one is turned once into a small predicate (`compile_schema`)
that accepts exactly what `jsonschema.Draft202012Validator(schema).is_valid` accepts: type,
enum, minimum/maximum (exclusive or not), length, pattern, oneOf/anyOf/allOf, and the object
and array keywords a request body uses. A schema with any other assertion keeps a jsonschema
validator, built on its first use. jsonschema is therefore imported only for such a schema or
to word a refused request body; a good call never touches it.

`OperationChecks` holds one operation's compiled checks and the argument groups the executor
reads on every call (path, body, builder arguments), so none of that is worked out per call.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from musicagent.errors import InvalidParameterError

if TYPE_CHECKING:
    from discogs_facade import Argument, Operation

__all__ = [
    "OperationChecks",
    "Predicate",
    "check_arguments",
    "checks_for",
    "compile_schema",
    "describe_allowed",
    "jsonschema_predicate",
]

Predicate = Callable[[Any], bool]
"""Whether a value is valid under one schema."""

# Keywords that never make a value invalid (annotations; `format` asserts nothing unless a
# format checker is given, and none is). Unknown keywords are not listed: a schema holding one
# keeps jsonschema, whatever the keyword means to it.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)


def _is_integer(value: Any) -> bool:
    # JSON Schema 2020-12 as jsonschema reads it: 1.0 is an integer, True is not.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


_TYPE_TESTS: dict[str, Predicate] = {
    "integer": _is_integer,
    "number": _is_number,
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
}


class _NotPlain(Exception):
    """The schema uses a keyword the plain checks do not cover."""


def compile_schema(schema: Mapping[str, Any] | bool) -> Predicate | None:
    """A predicate equal to jsonschema's verdict for `schema`, or None if it is not plain."""
    try:
        return _compile(schema)
    except _NotPlain:
        return None


def jsonschema_predicate(schema: Mapping[str, Any] | bool) -> Predicate:
    """jsonschema's own verdict (for schemas `compile_schema` leaves alone), built on first use."""
    validator: Any = None

    def is_valid(value: Any) -> bool:
        nonlocal validator
        if validator is None:
            from jsonschema import Draft202012Validator

            validator = Draft202012Validator(schema)
        return bool(validator.is_valid(value))

    return is_valid


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


def _compile(schema: Mapping[str, Any] | bool) -> Predicate:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, Mapping):
        raise _NotPlain
    tests: list[Predicate] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        tests.append(_keyword(keyword, value, schema))
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    checks = tuple(tests)
    return lambda value: all(test(value) for test in checks)


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _NotPlain
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _NotPlain
    return value


def _keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Predicate:
    """One keyword's test; each applies only to the instance types it is defined for."""
    if keyword == "type":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(name in _TYPE_TESTS for name in names):
            raise _NotPlain
        tests = tuple(_TYPE_TESTS[name] for name in names)
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(test(v) for test in tests)
    if keyword == "enum":
        if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
            raise _NotPlain  # only string enums: their equality is plain ==
        members = frozenset(value)
        listed = tuple(value)
        # A non-string compares with == as jsonschema does (a str never equals one).
        return lambda v: v in members if isinstance(v, str) else any(e == v for e in listed)
    if keyword == "minimum":
        low = _number(value)
        return lambda v: not _is_number(v) or not v < low
    if keyword == "maximum":
        high = _number(value)
        return lambda v: not _is_number(v) or not v > high
    if keyword == "exclusiveMinimum":
        low = _number(value)
        return lambda v: not _is_number(v) or not v <= low
    if keyword == "exclusiveMaximum":
        high = _number(value)
        return lambda v: not _is_number(v) or not v >= high
    if keyword == "minLength":
        shortest = _count(value)
        return lambda v: not isinstance(v, str) or len(v) >= shortest
    if keyword == "maxLength":
        longest = _count(value)
        return lambda v: not isinstance(v, str) or len(v) <= longest
    if keyword == "pattern":
        if not isinstance(value, str):
            raise _NotPlain
        search = re.compile(value).search  # jsonschema uses re.search: unanchored
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword in ("anyOf", "oneOf", "allOf"):
        if not isinstance(value, list) or not value:
            raise _NotPlain
        parts = tuple(_compile(part) for part in value)
        if keyword == "anyOf":
            return lambda v: any(part(v) for part in parts)
        if keyword == "allOf":
            return lambda v: all(part(v) for part in parts)
        return lambda v: sum(1 for part in parts if part(v)) == 1
    return _object_or_array_keyword(keyword, value, schema)


def _object_or_array_keyword(keyword: str, value: Any, schema: Mapping[str, Any]) -> Predicate:
    if keyword == "properties":
        if not isinstance(value, Mapping):
            raise _NotPlain
        fields = tuple((name, _compile(sub)) for name, sub in value.items())
        return lambda v: (
            not isinstance(v, dict) or all(test(v[name]) for name, test in fields if name in v)
        )
    if keyword == "required":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise _NotPlain
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(name in v for name in names)
    if keyword == "minProperties":
        fewest = _count(value)
        return lambda v: not isinstance(v, dict) or len(v) >= fewest
    if keyword == "maxProperties":
        most = _count(value)
        return lambda v: not isinstance(v, dict) or len(v) <= most
    if keyword == "additionalProperties":
        if "patternProperties" in schema:
            raise _NotPlain
        known = frozenset(schema.get("properties", {}))
        extra = _compile(value)
        return lambda v: (
            not isinstance(v, dict)
            or all(extra(item) for name, item in v.items() if name not in known)
        )
    if keyword == "items":
        if "prefixItems" in schema:
            raise _NotPlain
        each = _compile(value)
        return lambda v: not isinstance(v, list) or all(each(item) for item in v)
    if keyword == "minItems":
        fewest = _count(value)
        return lambda v: not isinstance(v, list) or len(v) >= fewest
    if keyword == "maxItems":
        most = _count(value)
        return lambda v: not isinstance(v, list) or len(v) <= most
    raise _NotPlain


def predicate_for(schema: Mapping[str, Any]) -> Predicate:
    """The plain predicate of a schema, or jsonschema's verdict when it is not plain."""
    compiled = compile_schema(schema)
    return compiled if compiled is not None else jsonschema_predicate(schema)


# --- words for what a schema allows -----------------------------------------------------------


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


def describe_allowed(schema: Mapping[str, Any]) -> str:
    """What a schema accepts, in words a user understands (`1..100`, `one of: USD, GBP`)."""
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(describe_allowed(s) for s in schema[key])
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    types = schema.get("type")
    if isinstance(types, list):
        return " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types if t != "null")
    low, high = schema.get("minimum"), schema.get("maximum")
    if schema.get("exclusiveMinimum") is not None:
        return (
            f"{_TYPE_WORDS.get(types or '', 'a value')} greater than {schema['exclusiveMinimum']}"
        )
    if low is not None and high is not None:
        return f"{_TYPE_WORDS.get(types or '', 'a value')} from {low} to {high}"
    if low is not None:
        return f"{_TYPE_WORDS.get(types or '', 'a value')} of at least {low}"
    if high is not None:
        return f"{_TYPE_WORDS.get(types or '', 'a value')} of at most {high}"
    if types == "string" and schema.get("minLength"):
        return "a non-empty string"
    return _TYPE_WORDS.get(types or "", "a valid value")


# --- one operation's checks -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ArgumentCheck:
    argument: Argument
    valid: Predicate
    is_path: bool


@dataclass(frozen=True, slots=True)
class OperationChecks:
    """One operation's compiled checks and argument groups, built on its first call.

    Attributes:
        operation: the operation these were built for.
        checks: every argument with its predicate, in the spec's order.
        path: the path arguments (they also fill cache invalidation templates).
        body: the body arguments.
        sent: the arguments the generated request builder takes (all but the body's).
        binary_fields: wire names of body fields that carry a file.
        body_valid: the request body's predicate, when the operation has a body schema.
    """

    operation: Operation[Any]
    checks: tuple[_ArgumentCheck, ...]
    path: tuple[Argument, ...]
    body: tuple[Argument, ...]
    sent: tuple[Argument, ...]
    binary_fields: frozenset[str]
    body_valid: Predicate | None

    @classmethod
    def build(cls, op: Operation[Any]) -> OperationChecks:
        """Compile every schema of the operation once."""
        checks = tuple(
            _ArgumentCheck(
                arg, _always if arg.binary else predicate_for(arg.schema), arg.location == "path"
            )
            for arg in op.arguments
        )
        return cls(
            operation=op,
            checks=checks,
            path=tuple(a for a in op.arguments if a.location == "path"),
            body=tuple(a for a in op.arguments if a.location == "body"),
            sent=tuple(a for a in op.arguments if a.location != "body"),
            binary_fields=frozenset(a.wire_name for a in op.arguments if a.binary),
            body_valid=predicate_for(op.body_schema) if op.body_schema is not None else None,
        )

    def body_fields(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The body's fields by wire name, from the arguments given (None means not given)."""
        return {
            a.wire_name: arguments[a.python_name]
            for a in self.body
            if arguments.get(a.python_name) is not None
        }

    def path_values(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The call's path values by their spec names."""
        return {
            a.wire_name: arguments[a.python_name]
            for a in self.path
            if arguments.get(a.python_name) is not None
        }


_checks: dict[str, OperationChecks] = {}


def checks_for(op: Operation[Any]) -> OperationChecks:
    """The compiled checks of an operation (kept per operation id, rebuilt for a new object)."""
    found = _checks.get(op.operation_id)
    if found is None or found.operation is not op:
        found = _checks[op.operation_id] = OperationChecks.build(op)
    return found


def check_arguments(op: Operation[Any], arguments: Mapping[str, Any]) -> None:
    """Reject bad arguments before anything is sent, naming the parameter and what is allowed."""
    checks = checks_for(op)
    for check in checks.checks:
        arg = check.argument
        value = arguments.get(arg.python_name)
        if value is None:
            if arg.required:
                raise InvalidParameterError(
                    f"{op.operation_id}: {arg.python_name} is required",
                    parameter=arg.python_name,
                    allowed=describe_allowed(arg.schema) if arg.schema else None,
                )
            continue
        if arg.binary:
            _check_file(arg, value)
            continue
        if not check.valid(value):
            allowed = describe_allowed(arg.schema)
            raise InvalidParameterError(
                f"{op.operation_id}: {arg.python_name}={_short(value)} is not allowed; "
                f"expected {allowed}",
                parameter=arg.python_name,
                allowed=allowed,
                value=value,
            )
        # Path segments are percent-encoded by the builder, but "." and ".." would still be
        # read as relative segments and could reach another resource.
        if check.is_path and isinstance(value, str) and value.strip() in (".", ".."):
            raise InvalidParameterError(
                f"{op.operation_id}: {arg.python_name}={value!r} is not a valid path value",
                parameter=arg.python_name,
                allowed="a name other than '.' or '..'",
                value=value,
            )
    if checks.body_valid is not None:
        body = checks.body_fields(arguments)
        if body or op.body_required:
            # A file stands in as a string: its content was checked above.
            wire = {k: "<file>" if k in checks.binary_fields else v for k, v in body.items()}
            if not checks.body_valid(wire):
                _explain_body(op, checks, wire)


def _check_file(arg: Argument, value: Any) -> None:
    if not isinstance(value, bytes | bytearray | str | os.PathLike) and not hasattr(value, "read"):
        raise InvalidParameterError(
            f"{arg.python_name} must be bytes, a file path or a binary file object",
            parameter=arg.python_name,
            allowed="bytes, a path, or a file opened in binary mode",
            value=value,
        )


def _explain_body(op: Operation[Any], checks: OperationChecks, wire: Mapping[str, Any]) -> None:
    """Word a refused body with jsonschema's first error (only a missing field is refused)."""
    from jsonschema import Draft202012Validator

    assert op.body_schema is not None
    error = next(iter(Draft202012Validator(op.body_schema).iter_errors(wire)), None)
    if error is not None and error.validator in ("minProperties", "required"):
        names = ", ".join(a.python_name for a in checks.body)
        raise InvalidParameterError(
            f"{op.operation_id}: {error.message}; give at least one of: {names}",
            parameter="body",
            allowed=names,
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
