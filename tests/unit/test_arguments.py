"""The compiled argument checks accept and refuse exactly what jsonschema does.

Every schema an operation checks (each argument's, and the request body's) is compiled by
`musicagent.arguments`; for each one, a table of probe values drawn from the schema itself
(its bounds, enum members, patterns) plus values of every JSON type, and then values generated
by Hypothesis, must get jsonschema's own verdict. A schema the plain checks do not cover must
fall back to jsonschema rather than guess.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from discogs_facade import OPERATIONS, Argument, Operation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from musicagent.arguments import check_arguments, checks_for, compile_schema, predicate_for
from musicagent.errors import InvalidParameterError


def _schemas() -> dict[str, Mapping[str, Any]]:
    """Every distinct schema the checks compile, named by the first argument that uses it."""
    found: dict[str, Mapping[str, Any]] = {}
    seen: set[str] = set()
    for op in OPERATIONS.values():
        named = [(a.python_name, a.schema) for a in op.arguments if not a.binary]
        if op.body_schema is not None:
            named.append(("<body>", op.body_schema))
        for name, schema in named:
            text = json.dumps(schema, sort_keys=True)
            if text not in seen:
                seen.add(text)
                found[f"{op.operation_id}.{name}"] = schema
    return found


SCHEMAS = _schemas()

COMMON = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    5,
    6,
    100,
    101,
    10**30,
    0.0,
    1.0,
    1.5,
    -0.5,
    100.0,
    math.inf,
    -math.inf,
    math.nan,
    Decimal("1"),
    Decimal("0.5"),
    "",
    " ",
    "1",
    "0",
    "abc",
    "auto",
    "..",
    "ALL",
    "all",
    [],
    [1],
    ["a"],
    {},
    {"a": 1},
    (1,),
    b"bytes",
]


def _subschemas(schema: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(schema, Mapping):
        yield schema
        for key in ("oneOf", "anyOf", "allOf"):
            for part in schema.get(key, []):
                yield from _subschemas(part)
        for part in schema.get("properties", {}).values():
            yield from _subschemas(part)


def _probes(schema: Mapping[str, Any]) -> list[Any]:
    """Values on every edge the schema draws: bounds and one step past, members and near misses."""
    values: list[Any] = list(COMMON)
    for part in _subschemas(schema):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in part:
                bound = part[key]
                values += [bound - 1, bound, bound + 1, bound - 0.5, bound + 0.5, float(bound)]
                values += [str(bound), bool(bound)]
        for key in ("minLength", "maxLength"):
            if key in part:
                values += ["x" * max(part[key] - 1, 0), "x" * part[key], "x" * (part[key] + 1)]
        for member in part.get("enum", []):
            values += [member, member.lower(), member.upper(), member + " ", [member]]
        if "pattern" in part:
            values += ["007", "12a", "For Sale", "for sale", "fOr SaLe", "\n1"]
        names = list(part.get("properties", {}))
        if names:
            values.append({})
            for name in names:
                values += [{name: 1}, {name: "x"}, {name: None}, {name: "<file>"}]
            values.append({name: 1 for name in names})
            values.append(dict.fromkeys(names, "Mint (M)"))
    return values


def _verdict(schema: Mapping[str, Any], value: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(value))


def test_every_schema_of_the_spec_compiles_to_plain_checks() -> None:
    # The spec only uses plain keywords; a new one must be added to the compiler on purpose.
    uncovered = [name for name, schema in SCHEMAS.items() if compile_schema(schema) is None]
    assert not uncovered


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_probes_get_jsonschemas_verdict(name: str) -> None:
    schema = SCHEMAS[name]
    check = predicate_for(schema)
    wrong = [v for v in _probes(schema) if check(v) != _verdict(schema, v)]
    assert not wrong, f"{json.dumps(schema)}: {wrong!r}"


_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "..", "auto", "USD", "usd", "For Sale", "123", "Mint (M)"])
)
_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_values_get_jsonschemas_verdict(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    members = [v for part in _subschemas(schema) for v in part.get("enum", [])]
    names = [n for part in _subschemas(schema) for n in part.get("properties", {})]
    strategy = _values
    if members:
        strategy = strategy | st.sampled_from(members)
    if names:
        strategy = strategy | st.dictionaries(
            st.sampled_from(names), _values | st.sampled_from(members or [1])
        )
    value = data.draw(strategy)
    assert predicate_for(schema)(value) == _verdict(schema, value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date", "const": "x"},
        {"type": "integer", "multipleOf": 3},
        {"enum": [1, 2]},
        {"$ref": "#/$defs/x", "$defs": {"x": {"type": "string"}}},
        {"type": "object", "patternProperties": {"^a": {"type": "string"}}},
        {"not": {"type": "string"}},
    ],
)
def test_schemas_beyond_the_plain_keywords_keep_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is None
    check = predicate_for(schema)
    for value in ["x", 3, 4, 1, "a", {"a": 1}, {"a": "b"}, None]:
        assert check(value) == _verdict(schema, value)


def test_checks_are_compiled_once_per_operation() -> None:
    op = OPERATIONS["get_release"]
    assert checks_for(op) is checks_for(op)


def test_a_new_operation_object_gets_its_own_checks() -> None:
    # Same id, stricter schema: the checks follow the object, not a stale entry for the id.
    op = OPERATIONS["get_release"]
    first = op.arguments[0]
    stricter = Argument(
        first.python_name,
        first.location,
        first.wire_name,
        first.builder_name,
        first.required,
        {"type": "integer", "minimum": 10},
    )
    other: Operation[Any] = Operation(
        op.operation_id,
        op.tag,
        op.method,
        op.path,
        op.build,
        (stricter, *op.arguments[1:]),
        op.result_kind,
    )
    check_arguments(op, {first.python_name: 5})
    with pytest.raises(InvalidParameterError, match="at least 10"):
        check_arguments(other, {first.python_name: 5})
    check_arguments(op, {first.python_name: 5})


def test_a_refused_body_is_worded_by_jsonschema() -> None:
    op = OPERATIONS["edit_order"]
    path = {a.python_name: "1" for a in op.arguments if a.location == "path"}
    with pytest.raises(InvalidParameterError) as caught:
        check_arguments(op, path)
    assert caught.value.parameter == "body"
    assert "should be non-empty; give at least one of:" in str(caught.value)


def test_calls_with_good_arguments_never_import_jsonschema() -> None:
    # A fresh process: arguments that pass their checks are checked without the schema engine
    # (the server's 404 only ends each call quickly; it is not what is tested).
    script = textwrap.dedent(
        """
        import sys, httpx
        from musicagent import Discogs
        from musicagent.errors import DiscogsAPIError

        def answer(request):
            return httpx.Response(404, json={"message": "Release not found."})

        with Discogs(token="fresh-token-123", transport=httpx.MockTransport(answer),
                     rate_limiter=False, cache=False) as client:
            for call in (
                lambda: client.database.get_release(1, curr_abbr="USD"),
                lambda: client.wantlist.get_wantlist("sandbox", page=2, per_page=50),
                lambda: client.marketplace.get_inventory("sandbox", status="For Sale"),
            ):
                try:
                    call()
                except DiscogsAPIError:
                    pass
        print(sorted(m for m in sys.modules if m == "jsonschema" or m.startswith("jsonschema.")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
