"""The sandbox's lines, per part and per operation: what is generic and what is hand-written.

Read from the source with ``ast`` (nothing is imported): a handler is a function decorated with
``@handles("<operationId>")`` in ``endpoints/``; a table row is an entry of ``READS`` in
``endpoints/reads.py``; an operation with neither is answered by the core alone. The block is
kept current in docs/architecture.md by ``scripts/docs.py`` (``--check`` fails when it is not).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "overlay" / "discogs_sandbox"
SPEC = ROOT / "spec" / "discogs.yaml"
START = "<!-- sandbox-lines:start (written by scripts/docs.py) -->"
END = "<!-- sandbox-lines:end -->"

PARTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "generic core",
        ("spec_core.py", "app.py", "rules.py", "reading.py", "endpoints/registry.py"),
        "routing, security, schema checks, the reads' lookups, sorts and one page shape, "
        "fallback answers, HTTP rules",
    ),
    (
        "generic infrastructure",
        (
            "server.py",
            "config.py",
            "throttle.py",
            "faults.py",
            "stats.py",
            "credentials.py",
            "pytest_plugin.py",
            "__init__.py",
            "endpoints/__init__.py",
        ),
        "serving, settings, rate limit, fault injection, counters, auth checks, fixture",
    ),
    (
        "data",
        ("catalogue.py", "people.py", "seeding.py", "search.py"),
        "the generated dataset and its search index",
    ),
    ("state", ("state.py",), "writes kept while the server runs"),
    ("reads table", ("endpoints/reads.py",), "one row per plain read, and the path finders"),
)
"""The parts of the package; every other module of ``endpoints/`` is operation code."""


@dataclass(frozen=True)
class Operation:
    """How one operation of the spec is answered, and the lines that are its own."""

    operation_id: str
    answered_by: str
    lines: int


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _handlers() -> dict[str, int]:
    """operationId → lines of its handler function (decorator included)."""
    found: dict[str, int] = {}
    for path in sorted((PACKAGE / "endpoints").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Name)
                    and decorator.func.id == "handles"
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    end = node.end_lineno or node.lineno
                    found[str(decorator.args[0].value)] = end - decorator.lineno + 1
    return found


def _rows() -> dict[str, int]:
    """operationId → lines of its row in ``READS``."""
    tree = ast.parse((PACKAGE / "endpoints" / "reads.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "READS":
            assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict)
            return {
                str(key.value): (value.end_lineno or value.lineno) - key.lineno + 1
                for key, value in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(key, ast.Constant)
            }
    raise LookupError("no READS table in endpoints/reads.py")


def operations() -> list[Operation]:
    """Every operation of the spec, most hand-written lines first."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    handlers, rows = _handlers(), _rows()
    found = []
    for item in spec["paths"].values():
        for method in ("get", "put", "post", "delete", "patch"):
            if method not in item:
                continue
            op = item[method]["operationId"]
            if op in handlers:
                found.append(Operation(op, "handler", handlers[op]))
            elif op in rows:
                found.append(Operation(op, "table row", rows[op]))
            else:
                found.append(Operation(op, "core alone", 0))
    kinds = {"handler": 0, "table row": 1, "core alone": 2}
    return sorted(found, key=lambda o: (kinds[o.answered_by], -o.lines, o.operation_id))


def render() -> str:
    """The markdown block of docs/architecture.md, from START to END."""
    files = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    counted = {p.relative_to(PACKAGE).as_posix(): _lines(p) for p in files}
    total = sum(counted.values())
    listed = {name for _, names, _ in PARTS for name in names}
    operation_code = sorted(n for n in counted if n not in listed)
    ops = operations()
    handler_lines = sum(o.lines for o in ops if o.answered_by == "handler")
    handlers = [o for o in ops if o.answered_by == "handler"]
    rows = [o for o in ops if o.answered_by == "table row"]
    alone = [o for o in ops if o.answered_by == "core alone"]
    out = [
        START,
        f"Lines per part ({total:,} lines in all, {len(ops)} operations):",
        "",
        "| part | files | lines | what |",
        "|---|---|---|---|",
    ]
    for part, names, what in PARTS:
        lines = sum(counted.get(name, 0) for name in names)
        shown = ", ".join(f"`{name}`" for name in names)
        out.append(f"| {part} | {shown} | {lines:,} | {what} |")
    code_lines = sum(counted[name] for name in operation_code)
    shown = ", ".join(f"`{name}`" for name in operation_code)
    out.append(
        f"| hand-written operation code | {shown} | {code_lines:,} | "
        f"{len(handlers)} handler functions ({handler_lines:,} lines) and the body builders "
        "the handlers and the table rows call |"
    )
    out += [
        "",
        f"Per operation: {len(handlers)} answered by a handler, {len(rows)} by a row of the "
        f"reads table, {len(alone)} by the core alone. Lines are the handler function's own "
        "(decorator included) or the row's:",
        "",
        "| operation | answered by | lines |",
        "|---|---|---|",
    ]
    out += [f"| `{o.operation_id}` | handler | {o.lines} |" for o in handlers]
    if rows:
        listed_rows = ", ".join(f"`{o.operation_id}` {o.lines}" for o in rows)
        out += ["", f"Table rows: {listed_rows}."]
    if alone:
        out += ["", "Core alone: " + ", ".join(f"`{o.operation_id}`" for o in alone) + "."]
    out.append(END)
    return "\n".join(out) + "\n"


def rewrite(text: str) -> str:
    """``text`` (docs/architecture.md) with its block replaced by the current one."""
    start, end = text.index(START), text.index(END) + len(END) + 1
    return text[:start] + render() + text[end:]
