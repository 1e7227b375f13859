"""Benchmark results as markdown: machine, versions, a summary table, targets, one section each."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field

from benchmarks.adapters import CLIENTS, client_version

__all__ = ["Section", "SummaryRow", "Target", "machine_lines", "markdown_table", "render"]


@dataclass(frozen=True)
class Target:
    """One goal for musicagent and whether the run met it, with the measured figure."""

    goal: str
    holds: bool
    measured: str


@dataclass(frozen=True)
class SummaryRow:
    """One line of the side-by-side summary: a measure and its value per client."""

    measure: str
    values: dict[str, str]


@dataclass
class Section:
    """The result of one scenario: a table, what it means, and the targets it checks."""

    key: str
    title: str
    intro: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    summary: list[SummaryRow] = field(default_factory=list)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table; numeric-looking columns are right-aligned."""

    def numeric(text: str) -> bool:
        stripped = text.replace(",", "").replace("×", "").replace("%", "").strip()
        return stripped.replace(".", "", 1).isdigit()

    aligns = []
    for column in range(len(headers)):
        cells = [row[column] for row in rows if column < len(row) and row[column]]
        aligns.append("---:" if cells and all(numeric(c) for c in cells) else "---")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(aligns) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_lines() -> list[str]:
    """Date, machine and versions of everything measured, as markdown list items."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    clients = ", ".join(f"{name} {client_version(name)}" for name in CLIENTS)
    support = ", ".join(
        f"{name} {_version(name)}" for name in ("httpx", "pydantic", "uvicorn", "starlette")
    )
    return [
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} CPUs, {platform.platform()}, {platform.machine()}",
        f"- Python: {platform.python_implementation()} {sys.version.split()[0]}",
        f"- Clients: {clients}",
        f"- Libraries: {support}",
    ]


def summary_table(sections: list[Section]) -> str:
    """The side-by-side table of every section's summary rows (the README's table)."""
    rows = [row for section in sections for row in section.summary]
    if not rows:
        return ""
    headers = ["", *CLIENTS]
    return markdown_table(
        headers, [[row.measure, *(row.values.get(c, "—") for c in CLIENTS)] for row in rows]
    )


def render(sections: list[Section], *, profile: str, command: str) -> str:
    """The whole results page."""
    parts = [
        "# Benchmarks",
        "",
        "MusicAgent side by side with the other Python clients for Discogs, on the local "
        "sandbox (`musicagent.testing.Sandbox`) over loopback: every request is counted by "
        "the server, every client runs in a process of its own. Regenerate with `make bench` "
        "(see `benchmarks/__init__.py` for the options).",
        "",
        f"Run: `{command}` (profile `{profile}`).",
        "",
        *machine_lines(),
        "",
    ]
    summary = summary_table(sections)
    if summary:
        parts += ["## Summary", "", summary, ""]
    targets = [target for section in sections for target in section.targets]
    if targets:
        parts += ["## Targets for musicagent", ""]
        parts += [
            f"- {'✅ holds' if t.holds else '❌ does NOT hold'}: {t.goal} — measured {t.measured}"
            for t in targets
        ]
        parts.append("")
    for section in sections:
        parts += [f"## {section.title}", "", section.intro, ""]
        parts += [markdown_table(section.headers, section.rows), ""]
        parts += [f"- {note}" for note in section.notes]
        if section.notes:
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"
