"""Lay the generated Pydantic models out one per module, each built and completed on first use.

datamodel-code-generator writes every model into one module, so the first use of any model
builds all of them (the costliest part of a fresh process's first request), and a model whose
field names a class defined further down stays incomplete until its first use: Pydantic then
completes it by resolving those names in the *caller's* namespace, where `Track = dict` silently
turns a release's tracklist into plain dicts.

This pass splits that module by the syntax tree: one module per model under `_models/`, named by
the model (`Release` → `_models/release.py`), importing exactly the models it names and ending
with `model_rebuild()` of its own class at module level, which resolves names in that module's
namespace and nothing else. Importing a model therefore builds it and what it references, all
complete before any caller sees them. Models that reference each other in a cycle share one
module (the spec has none today, only self-references such as a track's sub-tracks).
`discogs_models/__init__.py` (scripts/templates/models_init.py) maps each public name to its
module and imports it on first access.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "_models"
"""The subpackage of `discogs_models` that holds one module per model."""

TABLE_MARKER = "_MODULE_OF: dict[str, str] = {}"
CHECKING_MARKER = "    pass  # the models, for type checkers"
ALL_MARKER = "__all__: list[str] = []"


def module_name(class_name: str) -> str:
    """The module of a model: its name in snake case (`ReleaseCommunity` → release_community)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _components(deps: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of the reference graph, dependencies first (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(deps[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(component)

    for node in deps:
        if node not in index:
            visit(node)
    return found


def _imports(header: Iterable[ast.stmt]) -> dict[str, str]:
    """Each name the generated module imports, with the module it comes from."""
    origin: dict[str, str] = {}
    for node in header:
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            for alias in node.names:
                origin[alias.asname or alias.name] = node.module
    return origin


def split(source: str) -> tuple[dict[str, str], dict[str, str]]:
    """The per-model modules (file name → source) and the module of each model."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    origin = _imports(n for n in tree.body if isinstance(n, ast.ImportFrom))
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.ImportFrom):
            continue
        # The generator's own trailing `X.model_rebuild()` calls: every module ends with its own.
        is_rebuild = (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "model_rebuild"
        )
        if not is_rebuild:
            raise SystemExit(f"lazy layout: unexpected statement {ast.unparse(node)[:60]!r}")
    used = {name: _names(node) for name, node in classes.items()}
    deps = {name: (names & set(classes)) - {name} for name, names in used.items()}
    files: dict[str, str] = {}
    module_of: dict[str, str] = {}
    for component in _components(deps):
        # Keep the generator's order inside a cycle so a base class comes before its subclass.
        members = sorted(component, key=lambda name: classes[name].lineno)
        module = module_name(members[0])
        names = set().union(*(used[m] for m in members))
        out = ["from __future__ import annotations", ""]
        by_module: dict[str, list[str]] = {}
        for name in sorted(names & set(origin)):
            by_module.setdefault(origin[name], []).append(name)
        out += [
            f"from {mod} import {', '.join(sorted(ns))}" for mod, ns in sorted(by_module.items())
        ]
        out += [
            f"from .{module_of[other]} import {other}"
            for other in sorted(set().union(*(deps[m] for m in members)) - set(members))
        ]
        for member in members:
            node = classes[member]
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            out += ["", "", "".join(lines[first - 1 : node.end_lineno]).rstrip("\n")]
        out.append("")
        # At module level the namespace Pydantic resolves in is this module's and no other.
        out += [f"{member}.model_rebuild()" for member in members]
        files[f"{module}.py"] = "\n".join(out) + "\n"
        for member in members:
            module_of[member] = module
    files["__init__.py"] = (
        '"""One module per Discogs model, each complete on import (see discogs_models)."""\n'
    )
    return files, dict(sorted(module_of.items()))


def render_init(template: str, table: dict[str, str], extra: dict[str, str]) -> str:
    """`discogs_models/__init__.py`: the template with the name → module table filled in.

    `extra` holds further public names (the base classes) with the module they live in.
    """
    for marker in (TABLE_MARKER, CHECKING_MARKER, ALL_MARKER):
        if marker not in template:
            raise SystemExit(f"lazy layout: {marker!r} not found in the models init template")
    rows = [f"    {name!r}: {f'.{PACKAGE}.{module}'!r}," for name, module in table.items()]
    rows += [f"    {name!r}: {module!r}," for name, module in extra.items()]
    checking = [
        f"    from .{PACKAGE}.{module} import {name} as {name}" for name, module in table.items()
    ]
    checking += [f"    from {module} import {name} as {name}" for name, module in extra.items()]
    names = sorted([*table, *extra])
    return (
        template.replace(TABLE_MARKER, "_MODULE_OF: dict[str, str] = {\n" + "\n".join(rows) + "\n}")
        .replace(CHECKING_MARKER, "\n".join(checking))
        .replace(ALL_MARKER, "__all__ = [\n" + "".join(f"    {n!r},\n" for n in names) + "]")
    )


def apply(models_source: str, target: Path, init_template: str) -> None:
    """Replace `target/_models.py` by the per-model package and write the lazy `__init__`."""
    files, table = split(models_source)
    package = target / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    extra = {"DiscogsModel": "._base", "DiscogsRootModel": "._base"}
    (target / "__init__.py").write_text(render_init(init_template, table, extra), encoding="utf-8")
