"""Reports over the mirror: what the collection is worth, and which wants are buyable now.

Both read only the database (no request): run `sync --prices` (or `--hydrate stats`) first.
Each returns rows as dicts, ready for a table, JSON or a plot-ready CSV.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from musicagent.errors import InvalidParameterError

_AMOUNT = re.compile(r"(\d+(?:[.,]\d{1,2})?)")


def amount(text: object) -> float | None:
    """The first amount in a text: `"$1,250.00"` → 1250.0, `"max 25 EUR"` → 25.0; None when
    there is none."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    cleaned = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # thousands separators
    match = _AMOUNT.search(cleaned)
    return float(match.group(1).replace(",", ".")) if match else None


@dataclass
class ValueReport:
    """The collection's value now and at the previous snapshot.

    Attributes:
        endpoint: the collection value endpoint's minimum/median/maximum (as Discogs formats
            them), latest first: up to two rows.
        lowest_total: per run with a price snapshot, latest first (up to two): the sum over
            the collection's instances of each release's lowest price, how many instances had
            one, and how many did not.
        history: every snapshot run, oldest first, as numbers: the plot-ready series.
    """

    username: str
    endpoint: list[dict[str, Any]] = field(default_factory=list)
    lowest_total: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def change(self) -> dict[str, float | None]:
        """The change since the previous snapshot: median (endpoint) and lowest-price total."""
        median = lowest = None
        if len(self.endpoint) == 2:
            now, before = (amount(row["median"]) for row in self.endpoint)
            median = None if now is None or before is None else round(now - before, 2)
        if len(self.lowest_total) == 2:
            lowest = round(self.lowest_total[0]["total"] - self.lowest_total[1]["total"], 2)
        return {"median": median, "lowest_total": lowest}


def _rows(db: sqlite3.Connection, sql: str, parameters: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, parameters)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_LOWEST_BY_RUN = (
    "SELECT p.run_id, s.started_at AS taken_at, round(sum(p.lowest_price), 2) AS total, "
    "count(p.lowest_price) AS priced, count(*) - count(p.lowest_price) AS unpriced, "
    "max(p.currency) AS currency "
    "FROM collection_items c JOIN price_snapshots p ON p.release_id = c.release_id "
    "JOIN sync_runs s ON s.run_id = p.run_id AND s.username = c.username "
    "WHERE c.username = ? GROUP BY p.run_id"
)


def collection_value(db: sqlite3.Connection, username: str) -> ValueReport:
    """The value report of `username`'s collection (see `ValueReport`)."""
    report = ValueReport(username)
    report.endpoint = _rows(
        db,
        "SELECT run_id, taken_at, minimum, median, maximum FROM collection_values "
        "WHERE username = ? ORDER BY run_id DESC LIMIT 2",
        (username,),
    )
    report.lowest_total = _rows(db, f"{_LOWEST_BY_RUN} ORDER BY p.run_id DESC LIMIT 2", (username,))
    endpoint = {
        row["run_id"]: row
        for row in _rows(
            db,
            "SELECT run_id, minimum, median, maximum FROM collection_values WHERE username = ?",
            (username,),
        )
    }
    lowest = {row["run_id"]: row for row in _rows(db, _LOWEST_BY_RUN, (username,))}
    for run_id in sorted(set(endpoint) | set(lowest)):
        point = endpoint.get(run_id, {})
        total = lowest.get(run_id, {})
        report.history.append(
            {
                "run_id": run_id,
                "taken_at": total.get("taken_at") or _started(db, run_id),
                "minimum": amount(point.get("minimum")),
                "median": amount(point.get("median")),
                "maximum": amount(point.get("maximum")),
                "lowest_total": total.get("total"),
                "priced": total.get("priced"),
                "unpriced": total.get("unpriced"),
            }
        )
    return report


def _started(db: sqlite3.Connection, run_id: int) -> str | None:
    row = db.execute("SELECT started_at FROM sync_runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def buyable_wants(
    db: sqlite3.Connection,
    username: str,
    *,
    max_price: float | None = None,
    from_notes: bool = False,
) -> list[dict[str, Any]]:
    """Wants whose lowest marketplace price is at or below a limit, cheapest first.

    The limit is the first amount in the want's notes (`from_notes`), else `max_price`; a want
    with neither is left out. Prices are the latest statistics the mirror holds.

    Raises:
        InvalidParameterError: neither a limit nor `from_notes`, or a negative limit.
    """
    if max_price is None and not from_notes:
        raise InvalidParameterError(
            "give a price limit: --max-price AMOUNT or --max-price-from notes",
            parameter="max_price",
            allowed="an amount >= 0, or the want's notes",
        )
    if max_price is not None and max_price < 0:
        raise InvalidParameterError(
            parameter="max_price", allowed="an amount >= 0", value=max_price
        )
    rows = _rows(
        db,
        "SELECT w.release_id, r.title, r.year, w.notes, m.lowest_price, m.currency, "
        "m.num_for_sale FROM wants w JOIN marketplace_stats m ON m.release_id = w.release_id "
        "LEFT JOIN releases r ON r.release_id = w.release_id "
        "WHERE w.username = ? AND m.lowest_price IS NOT NULL",
        (username,),
    )
    found = []
    for row in rows:
        limit = amount(row["notes"]) if from_notes else None
        if limit is None:
            limit = max_price
        if limit is None or row["lowest_price"] > limit:
            continue
        found.append({**row, "limit": limit})
    return sorted(found, key=lambda row: (row["lowest_price"], row["release_id"]))


__all__ = ["ValueReport", "amount", "buyable_wants", "collection_value"]
