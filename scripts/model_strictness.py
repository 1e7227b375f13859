"""Make the generated Pydantic models judge a body exactly as the spec's JSON Schema does.

datamodel-code-generator writes an optional field as `x: T | None = None` whether or not the
schema admits null, so a model would take `null` where the validator refuses it; and it has no
notion of `minProperties`. This pass reads the spec beside the generated module and

- marks every optional, non-nullable field `NonNull` (absent: `None`; an explicit `null`: refused);
- gives every object schema with `minProperties` a model check that counts the members, and
  every one with an `anyOf` of `required` lists (alternative shapes) a check that one of the
  lists is present; `for_generator` takes those `anyOf`s out of the copy of the spec the
  generator reads, which would otherwise turn the model into a union of near-copies;
- bases map models (`RootModel`, e.g. price suggestions) on `DiscogsRootModel`, so they have
  `to_dict()` / `to_json()` like every other model.

It edits the source text at the positions the syntax tree gives, so the generator's formatting and
docstrings stay as they are. Strictness of types (no bool for int, no str for int) is the base
class's `strict=True`, not this pass.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

BASE_IMPORT = "from discogs_models._base import DiscogsModel"
CHECKS_IMPORT = (
    "from discogs_models._base import DiscogsRootModel, NonNull, min_properties, required_any"
)


def required_alternatives(schema: Any) -> list[list[str]] | None:
    """The `required` lists of an `anyOf` that only names alternative required members."""
    members = schema.get("anyOf") if isinstance(schema, dict) else None
    if not members or "properties" not in schema:
        return None
    if all(isinstance(m, dict) and set(m) == {"required"} for m in members):
        return [list(m["required"]) for m in members]
    return None


def for_generator(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec for datamodel-code-generator: alternative-required anyOfs removed."""
    schemas = {
        name: (
            {k: v for k, v in schema.items() if k != "anyOf"}
            if required_alternatives(schema)
            else schema
        )
        for name, schema in spec["components"]["schemas"].items()
    }
    return {**spec, "components": {**spec["components"], "schemas": schemas}}


class _Spec:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas: dict[str, Any] = spec["components"]["schemas"]

    def deref(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            node: Any = self.spec
            for token in schema["$ref"].lstrip("#/").split("/"):
                node = node[token]
            schema = node
        return schema

    def object_view(self, schema: Any) -> tuple[dict[str, Any], set[str]]:
        schema = self.deref(schema)
        props: dict[str, Any] = dict(schema.get("properties", {}))
        required = set(schema.get("required", []))
        for member in schema.get("allOf", []):
            more, req = self.object_view(member)
            props.update(more)
            required |= req
        return props, required

    def admits_null(self, schema: Any) -> bool:
        """Whether a value of null is valid for this schema."""
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return True
        types = schema.get("type")
        if types is None and not any(k in schema for k in ("oneOf", "anyOf", "allOf", "enum")):
            return True  # untyped: anything, null included
        if types == "null" or (isinstance(types, list) and "null" in types):
            return True
        if any(self.admits_null(s) for k in ("oneOf", "anyOf") for s in schema.get(k, [])):
            return True
        return "enum" in schema and None in schema["enum"]

    def nested(self, schema: Any) -> Iterator[Any]:
        """Inline object schemas a property holds directly or as list items."""
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return
        if "$ref" not in schema and "properties" in schema:
            yield schema
        if "items" in schema:
            items = schema["items"]
            if isinstance(items, dict) and "$ref" not in items:
                yield from self.nested(items)


def _field_wire_name(node: ast.AnnAssign) -> str | None:
    if not isinstance(node.target, ast.Name):
        return None
    for candidate in (node.annotation, node.value):
        for call in ast.walk(candidate) if candidate is not None else ():
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Field":
                for kw in call.keywords:
                    if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                        return str(kw.value.value)
    return node.target.id


def _class_refs(annotation: ast.expr, known: set[str]) -> list[str]:
    return [n.id for n in ast.walk(annotation) if isinstance(n, ast.Name) and n.id in known]


def _offset(lines: list[str], lineno: int, col: int) -> int:
    return sum(len(line) for line in lines[: lineno - 1]) + col


def apply(source: str, spec: dict[str, Any]) -> str:
    """The generated models module, with NonNull markers and minProperties checks added."""
    s = _Spec(spec)
    tree = ast.parse(source)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    schema_of: dict[str, Any] = {name: s.schemas[name] for name in classes if name in s.schemas}
    # Inline objects become classes named by the generator: follow each field's annotation.
    pending = list(schema_of)
    while pending:
        name = pending.pop()
        props, _ = s.object_view(schema_of[name])
        for node in classes[name].body:
            if not isinstance(node, ast.AnnAssign):
                continue
            wire = _field_wire_name(node)
            if wire not in props:
                continue
            inline = list(s.nested(props[wire]))
            refs = [r for r in _class_refs(node.annotation, set(classes)) if r not in schema_of]
            if len(inline) == 1 and len(refs) == 1:
                schema_of[refs[0]] = inline[0]
                pending.append(refs[0])

    edits: list[tuple[int, int, str]] = []
    lines = source.splitlines(keepends=True)
    for name, schema in schema_of.items():
        cls = classes[name]
        props, required = s.object_view(schema)
        for node in cls.body:
            if not isinstance(node, ast.AnnAssign) or node.value is None:
                continue
            wire = _field_wire_name(node)
            if wire not in props or wire in required or s.admits_null(props[wire]):
                continue
            ann = node.annotation
            start = _offset(lines, ann.lineno, ann.col_offset)
            end = _offset(lines, ann.end_lineno or ann.lineno, ann.end_col_offset or 0)
            text = source[start:end]
            is_annotated = (
                isinstance(ann, ast.Subscript) and getattr(ann.value, "id", "") == "Annotated"
            )
            if is_annotated:
                new = text[: text.rstrip().rfind("]")] + ", NonNull]"
            else:
                new = f"Annotated[{text}, NonNull]"
            edits.append((start, end, new))
        alternatives = required_alternatives(s.deref(schema))
        if alternatives:
            last = cls.body[-1]
            at = _offset(lines, (last.end_lineno or last.lineno) + 1, 0)
            shown = ", ".join(repr(tuple(a)) for a in alternatives)
            edits.append((at, at, f"\n    check_required_any = required_any({shown})\n"))
        minimum = s.deref(schema).get("minProperties")
        if minimum:
            last = cls.body[-1]
            at = _offset(lines, (last.end_lineno or last.lineno) + 1, 0)
            edits.append((at, at, f"\n    check_min_properties = min_properties({int(minimum)})\n"))
    for cls in classes.values():
        base = cls.bases[0] if cls.bases else None
        if isinstance(base, ast.Subscript) and getattr(base.value, "id", "") == "RootModel":
            start = _offset(lines, base.value.lineno, base.value.col_offset)
            edits.append((start, start + len("RootModel"), "DiscogsRootModel"))
    for start, end, new in sorted(edits, reverse=True):
        source = source[:start] + new + source[end:]
    if BASE_IMPORT not in source:
        raise SystemExit(f"model strictness: {BASE_IMPORT!r} not found in the generated models")
    if "Annotated" not in source.split("\nclass ", 1)[0]:
        raise SystemExit("model strictness: the generated models do not import Annotated")
    return source.replace(BASE_IMPORT, f"{BASE_IMPORT}\n{CHECKS_IMPORT}", 1)
