"""Generate the typed facade (`generated/discogs_facade/`) from the spec.

One resource class per tag, sync and async, one method per operation and one `iter_*` method per
paginated operation. Each method describes its call as an `Operation` (request builder from
openapi-python-client, response model from datamodel-code-generator, argument schemas from the
spec) and hands it to an executor. No operation is wired by hand: change the spec and regenerate.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAG_CLASS = {
    "database": "Database",
    "marketplace": "Marketplace",
    "inventory": "Inventory",
    "users": "Users",
    "collection": "Collection",
    "wantlist": "Wantlist",
    "lists": "Lists",
    "oauth": "OAuth",
}
METHODS = ("get", "put", "post", "delete", "patch")


def snake(name: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().strip("_")
    return name


class Resolver:
    """Resolves local $refs of the spec into self-contained schemas."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def node(self, ref: str) -> Any:
        node: Any = self.spec
        for token in ref.lstrip("#/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, obj: Any) -> Any:
        while isinstance(obj, dict) and "$ref" in obj:
            merged = {k: v for k, v in obj.items() if k != "$ref"}
            target = self.node(obj["$ref"])
            obj = {**target, **merged}
        return obj

    def object_view(self, schema: Any) -> dict[str, Any]:
        """Properties and required names of an object schema, merging allOf members."""
        schema = self.deref(schema)
        props: dict[str, Any] = dict(schema.get("properties", {}))
        required: list[str] = list(schema.get("required", []))
        for member in schema.get("allOf", []):
            view = self.object_view(member)
            props.update(view["properties"])
            required += view["required"]
        return {"properties": props, "required": required}

    def inline(self, schema: Any, depth: int = 0) -> Any:
        """The schema with every $ref replaced by its target (request schemas are not recursive)."""
        if depth > 20:
            raise ValueError("schema too deep to inline")
        if isinstance(schema, dict):
            schema = self.deref(schema)
            return {
                k: self.inline(v, depth + 1)
                for k, v in schema.items()
                if not k.startswith("x-") and k not in ("description", "examples", "example")
            }
        if isinstance(schema, list):
            return [self.inline(v, depth + 1) for v in schema]
        return schema


def annotation(schema: dict[str, Any], r: Resolver) -> str:
    """Python type annotation for a (request-side) schema."""
    name = _schema_name(schema)
    if name and "enum" in r.deref(schema):
        return f"t.{name}"
    schema = r.deref(schema)
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(annotation(s, r) for s in schema[key]))
    types = schema.get("type", "string")
    if isinstance(types, list):
        parts = [annotation({**schema, "type": t}, r) for t in types if t != "null"]
        return " | ".join(dict.fromkeys(parts))
    if types == "string" and schema.get("format") == "binary":
        return "bytes | BinaryIO | PathLike[str]"
    return {
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "string": "str",
        "object": "dict[str, Any]",
    }.get(types, "list[Any]" if types == "array" else "Any")


@dataclass
class Arg:
    python_name: str
    location: str
    wire_name: str
    builder_name: str
    required: bool
    schema: dict[str, Any]
    annotation: str
    description: str
    binary: bool = False


@dataclass
class Op:
    operation_id: str
    tag: str
    method: str
    path: str
    summary: str
    description: str
    args: list[Arg]
    result_kind: str
    model: str | None
    returns: str
    success: list[int]
    body_kind: str | None = None
    body_model: str | None = None
    body_required: bool = False
    body_schema: dict[str, Any] | None = None
    iterator: str | None = None
    items_key: str | None = None
    item_model: str | None = None
    page_model: str | None = None
    extra_imports: set[str] = field(default_factory=set)
    cache_kind: str | None = None
    invalidates: tuple[str, ...] = ()
    replay_safe: bool = False


def _builder_params(tag: str, operation_id: str) -> dict[str, str]:
    module = importlib.import_module(f"discogs_api.api.{tag}.{operation_id}")
    return {snake(n).rstrip("_"): n for n in inspect.signature(module.request_kwargs).parameters}


def _schema_name(schema: dict[str, Any] | None) -> str | None:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[1] if ref.startswith("#/components/schemas/") else None


def collect(spec: dict[str, Any]) -> list[Op]:
    r = Resolver(spec)
    ops: list[Op] = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            raw = item[method]
            tag = raw["tags"][0]
            op_id = raw["operationId"]
            builder = _builder_params(tag, op_id)
            args: list[Arg] = []
            for p in raw.get("parameters", []):
                p = r.deref(p)
                py = p.get("x-python-name") or snake(p["name"])
                if keyword.iskeyword(py):
                    py += "_"
                args.append(
                    Arg(
                        py,
                        p["in"],
                        p["name"],
                        builder[snake(p["name"])],
                        bool(p.get("required")),
                        r.inline(p.get("schema", {})),
                        annotation(p.get("schema", {}), r),
                        " ".join(str(p.get("description", "")).split()),
                    )
                )
            body_kind = body_model = None
            body_required = False
            body_schema = None
            body = raw.get("requestBody")
            if body:
                body = r.deref(body)
                media, content = next(iter(body["content"].items()))
                body_kind = "multipart" if media.startswith("multipart/") else "json"
                body_model = _schema_name(content["schema"])
                body_required = bool(body.get("required"))
                resolved = r.object_view(content["schema"])
                body_schema = r.inline(content["schema"])
                required = set(resolved["required"])
                for name, prop in resolved["properties"].items():
                    py = prop.get("x-python-name") or snake(name)
                    if any(a.python_name == py for a in args):
                        raise SystemExit(f"{op_id}: body field {name} clashes; set x-python-name")
                    binary = r.deref(prop).get("format") == "binary"
                    args.append(
                        Arg(
                            py,
                            "body",
                            name,
                            name,
                            body_required and name in required,
                            {} if binary else r.inline(prop),
                            annotation(prop, r),
                            " ".join(str(r.deref(prop).get("description", "")).split()),
                            binary,
                        )
                    )
            success = sorted(int(s) for s in raw["responses"] if s[0] in "23" and s.isdigit())
            kinds = []
            model = None
            for status in success:
                resp = r.deref(raw["responses"][str(status)])
                content = resp.get("content") or {}
                if not content:
                    has_location = "Location" in (resp.get("headers") or {})
                    kinds.append("location" if has_location and status < 300 else "none")
                elif "application/json" in content:
                    kinds.append("model")
                    model = _schema_name(content["application/json"]["schema"])
                elif "application/x-www-form-urlencoded" in content:
                    kinds.append("form")
                    model = _schema_name(content["application/x-www-form-urlencoded"]["schema"])
                else:
                    kinds.append("bytes")
            primary = next((k for k in kinds if k != "none"), "none")
            returns = {
                "model": model or "Any",
                "form": model or "Any",
                "none": "None",
                "bytes": "bytes",
                "location": "str | None",
            }[primary]
            if primary in ("model", "form") and "none" in kinds:
                returns += " | None"
            op = Op(
                op_id,
                tag,
                method.upper(),
                path,
                raw.get("summary", op_id),
                str(raw.get("description", "")).strip(),
                args,
                primary,
                model,
                returns,
                success,
                body_kind,
                body_model,
                body_required,
                body_schema,
            )
            # Per-operation policy lives in the spec (x-musicagent-* extensions), not in
            # hand-kept tables: what the cache keeps it as, what a write makes stale, and
            # whether a request may be sent again after an ambiguous failure.
            op.cache_kind = raw.get("x-musicagent-cache")
            op.invalidates = tuple(raw.get("x-musicagent-invalidates", ()))
            op.replay_safe = bool(raw.get("x-musicagent-replay-safe", op.method in ("GET", "HEAD")))
            page_items = _page_items(raw, model, r)
            if page_items is not None:
                key, prop = page_items
                op.iterator = raw.get("x-iterator") or iterator_name(op_id)
                op.items_key = key
                op.page_model = model
                op.item_model = _schema_name(prop.get("items", prop))
            elif raw.get("x-iterator"):
                raise SystemExit(
                    f"{op_id}: x-iterator names a walker, but the operation is not paginated "
                    "(it needs the Page and PerPage parameters and a body with `pagination` "
                    "beside one array of items)"
                )
            ops.append(op)
    return ops


def iterator_name(operation_id: str) -> str:
    """The walker of a paginated operation: `iter_` + the id without `get_`/`list_`."""
    return "iter_" + operation_id.removeprefix("get_").removeprefix("list_")


def _page_items(raw: dict[str, Any], model: str | None, r: Resolver) -> tuple[str, Any] | None:
    """(items key, items schema) when an operation is paginated, from the spec's shapes alone.

    Paginated: it takes the shared `Page` and `PerPage` parameters and its success body has
    `pagination` beside the items: the first array property, else the one other member (the
    submissions page: an object of arrays). `x-iterator` only renames the walker.
    """
    refs = {p.get("$ref") for p in raw.get("parameters", [])}
    if not {"#/components/parameters/Page", "#/components/parameters/PerPage"} <= refs:
        return None
    if model is None:
        return None
    properties = r.object_view(r.spec["components"]["schemas"][model])["properties"]
    if "pagination" not in properties:
        return None
    others = [(k, v) for k, v in properties.items() if k != "pagination"]
    arrays = [(k, v) for k, v in others if r.deref(v).get("type") == "array"]
    # Submissions page an object of arrays: then the page's one member is the item.
    chosen = arrays or others
    return chosen[0] if chosen else None


def _signature(op: Op, *, for_iterator: bool) -> list[str]:
    path_args = [a for a in op.args if a.location == "path"]
    kw = [
        a
        for a in op.args
        if a.location != "path" and not (for_iterator and a.wire_name in ("page", "per_page"))
    ]
    kw.sort(key=lambda a: not a.required)
    parts = ["self", *(f"{a.python_name}: {a.annotation}" for a in path_args)]
    if kw:
        parts.append("*")
        for a in kw:
            parts.append(
                f"{a.python_name}: {a.annotation}"
                if a.required
                else f"{a.python_name}: {a.annotation} | None = None"
            )
    return parts


def _docstring(op: Op, first: str, indent: str, *, for_iterator: bool) -> str:
    lines = [first, ""]
    if op.description:
        lines += [*textwrap.wrap(" ".join(op.description.split()), 92), ""]
    lines.append(f"``{op.method} {op.path}``")
    shown = [a for a in op.args if not (for_iterator and a.wire_name in ("page", "per_page"))]
    if shown:
        lines += ["", "Args:"]
        for a in shown:
            text = f"{a.python_name}: {a.description or a.wire_name}"
            wrapped = textwrap.wrap(text, 88)
            lines += ["    " + wrapped[0]] + ["        " + w for w in wrapped[1:]]
    body = "\n".join((indent + line).rstrip() for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'


def _call_args(op: Op, *, for_iterator: bool) -> str:
    names = [
        a.python_name for a in op.args if not (for_iterator and a.wire_name in ("page", "per_page"))
    ]
    return "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"


def _tags(ops: list[Op]) -> list[str]:
    return list(dict.fromkeys(op.tag for op in ops))


OPERATIONS_GROUP_MARKER = "GROUP_OF: dict[str, str] = {}"


def render_operations_table(ops: list[Op], template: str) -> str:
    """`_operations/__init__.py`: the lazy table (template) with each operation's group."""
    if OPERATIONS_GROUP_MARKER not in template:
        raise SystemExit(f"{OPERATIONS_GROUP_MARKER!r} not found in the operations template")
    rows = "".join(f"    {op.operation_id!r}: {op.tag!r},\n" for op in ops)
    return template.replace(OPERATIONS_GROUP_MARKER, "GROUP_OF: dict[str, str] = {\n" + rows + "}")


def render_operation_group(tag: str, ops: list[Op]) -> str:
    """`_operations/<tag>.py`: one cached function per operation of the group.

    Each function imports its request builder and names its models only when first called, so
    describing one operation loads that operation's builder and models and nothing else.
    """
    out = [
        f'"""The {tag} operations as the facade calls them, each built on first use."""',
        "",
        "from __future__ import annotations",
        "",
        "from functools import cache",
        "",
        "import discogs_models as m",
        "from discogs_api import models as api_models",
        "",
        "from .._operation import Argument, Operation",
        "",
    ]
    for op in ops:
        result_type = (
            op.returns.replace(op.model or "\0", f"m.{op.model}") if op.model else op.returns
        )
        lines = [
            "",
            "@cache",
            f"def {op.operation_id}() -> Operation[{result_type}]:",
            f'    """``{op.method} {op.path}``."""',
            f"    from discogs_api.api.{op.tag} import {op.operation_id} as builder",
            "",
            "    return Operation(",
            f"        operation_id={op.operation_id!r},",
            f"        tag={op.tag!r},",
            f"        method={op.method!r},",
            f"        path={op.path!r},",
            "        build=builder.request_kwargs,",
            "        arguments=(",
        ]
        for a in op.args:
            lines.append(
                f"            Argument({a.python_name!r}, {a.location!r}, {a.wire_name!r}, "
                f"{a.builder_name!r}, {a.required!r}, {a.schema!r}, {a.binary!r}),"
            )
        lines += [
            "        ),",
            f"        result_kind={op.result_kind!r},",
            f"        model={'m.' + op.model if op.model else None},",
        ]
        if op.body_kind:
            lines += [
                f"        body_model=api_models.{op.body_model},",
                f"        body_kind={op.body_kind!r},",
                f"        body_required={op.body_required!r},",
                f"        body_schema={op.body_schema!r},",
            ]
        lines.append(f"        success_statuses={tuple(op.success)!r},")
        lines += [
            f"        cache_kind={op.cache_kind!r},",
            f"        invalidates={op.invalidates!r},",
            f"        replay_safe={op.replay_safe!r},",
        ]
        if op.items_key:
            lines += [
                f"        items_key={op.items_key!r},",
                f"        item_model={'m.' + op.item_model if op.item_model else None},",
            ]
        lines.append("    )")
        out += [*lines, ""]
    return "\n".join(out) + "\n"


def render_resources(ops: list[Op], spec: dict[str, Any], *, asynchronous: bool) -> str:
    prefix = "Async" if asynchronous else ""
    executor = "AsyncExecutor" if asynchronous else "SyncExecutor"
    it_type = "AsyncIterator" if asynchronous else "Iterator"
    tag_docs = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    kind = "asyncio" if asynchronous else "synchronous"
    out = [
        f'"""Typed {kind} resource groups: one method per Discogs operation."""',
        "",
        "from __future__ import annotations",
        "",
        f"from collections.abc import {it_type}",
        "from os import PathLike",
        "from typing import Any, BinaryIO, Literal",
        "",
        "import discogs_models as m",
        "",
        *(f"from ._operations import {tag} as {tag}_operations" for tag in _tags(ops)),
        "from . import types as t",
        f"from ._operation import {executor}",
        "",
    ]
    tags = _tags(ops)
    for tag in tags:
        cls = f"{prefix}{TAG_CLASS[tag]}Resource"
        out += [
            "",
            f"class {cls}:",
            f'    """{tag_docs.get(tag, tag).strip()}"""',
            "",
            f"    def __init__(self, executor: {executor}) -> None:",
            "        self._executor = executor",
        ]
        for op in (o for o in ops if o.tag == tag):
            returns = op.returns.replace(op.model, f"m.{op.model}") if op.model else op.returns
            sig = ",\n        ".join(_signature(op, for_iterator=False))
            aw = "await " if asynchronous else ""
            out += [
                "",
                f"    {'async ' if asynchronous else ''}def {op.operation_id}(",
                f"        {sig},\n    ) -> {returns}:",
                _docstring(op, f"{op.summary}.", "        ", for_iterator=False),
                f"        return {aw}self._executor.call(",
                f"            {op.tag}_operations.{op.operation_id}(),",
                f"            {_call_args(op, for_iterator=False)},",
                "        )",
            ]
            if op.iterator:
                item = f"m.{op.item_model}" if op.item_model else "Any"
                sig = ",\n        ".join(_signature(op, for_iterator=True))
                out += [
                    "",
                    f"    def {op.iterator}(\n        {sig},\n    ) -> {it_type}[{item}]:",
                    _docstring(
                        op,
                        f"{op.summary}: every item of every page, fetched lazily, 100 per request.",
                        "        ",
                        for_iterator=True,
                    ),
                    "        return self._executor.paginate(",
                    f"            {op.tag}_operations.{op.operation_id}(),",
                    f"            {_call_args(op, for_iterator=True)},",
                    "        )",
                ]
    out += ["", "", f"class {prefix}Resources:"]
    out += [f'    """Every resource group of the Discogs API ({kind})."""', ""]
    out += [f"    def __init__(self, executor: {executor}) -> None:"]
    for tag in tags:
        out.append(f"        self.{tag} = {prefix}{TAG_CLASS[tag]}Resource(executor)")
        out.append(f'        """{tag_docs.get(tag, tag).strip()}"""')
    return "\n".join(out) + "\n"


INIT = '''"""Typed facade over the generated Discogs client: resource groups for every operation."""

from typing import TYPE_CHECKING, Any

from ._operation import Argument, AsyncExecutor, Operation, SyncExecutor
from ._operations import OPERATIONS
from .synchronous import Resources

if TYPE_CHECKING:
    from .asynchronous import AsyncResources


def __getattr__(name: str) -> Any:
    # The async resource groups load on first use: a sync program never imports them.
    if name == "AsyncResources":
        from .asynchronous import AsyncResources

        return AsyncResources
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "OPERATIONS",
    "Argument",
    "AsyncExecutor",
    "AsyncResources",
    "Operation",
    "Resources",
    "SyncExecutor",
]
'''


def render_types(spec: dict[str, Any]) -> str:
    out = [
        '"""Closed sets of values the API accepts: conditions, statuses, sort keys, currencies."""',
        "",
        "from typing import Literal, TypeAlias",
        "",
    ]
    for name, schema in spec["components"]["schemas"].items():
        if "enum" in schema:
            values = ", ".join(repr(v) for v in schema["enum"])
            out.append(f"{name}: TypeAlias = Literal[{values}]")
            desc = " ".join(str(schema.get("description", "")).split())
            if desc:
                out.append(f'"""{desc}"""')
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def generate_facade(out: Path, spec: dict[str, Any], templates: Path) -> None:
    """Write generated/discogs_facade/ (needs out/discogs_api and out/discogs_models importable)."""
    sys.path.insert(0, str(out))
    try:
        for name in [
            m for m in sys.modules if m.split(".")[0] in ("discogs_api", "discogs_models")
        ]:
            del sys.modules[name]
        ops = collect(spec)
    finally:
        sys.path.remove(str(out))
    target = out / "discogs_facade"
    target.mkdir(parents=True, exist_ok=True)
    (target / "_operation.py").write_text((templates / "facade_operation.py").read_text())
    operations = target / "_operations"
    operations.mkdir(exist_ok=True)
    template = (templates / "facade_operations.py").read_text()
    (operations / "__init__.py").write_text(render_operations_table(ops, template))
    for tag in _tags(ops):
        group = [op for op in ops if op.tag == tag]
        (operations / f"{tag}.py").write_text(render_operation_group(tag, group))
    (target / "synchronous.py").write_text(render_resources(ops, spec, asynchronous=False))
    (target / "asynchronous.py").write_text(render_resources(ops, spec, asynchronous=True))
    (target / "types.py").write_text(render_types(spec))
    (target / "__init__.py").write_text(INIT)
    (target / "py.typed").write_text("")
