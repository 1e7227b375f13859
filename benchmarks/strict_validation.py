"""Strict mode's cost: reading a body with `strict=True` against the plain parse, per body.

    python -m benchmarks.strict_validation [--rounds N]

Every real capture and documentation example with a success body is read through
`musicagent.responses.read_response` both ways, on the same `httpx.Response`, many times; the
median time of each is reported with their ratio. The target is strict ≤ 3× plain.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from discogs_facade import OPERATIONS

from musicagent.responses import read_response
from musicagent.validation import bundled_validator

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    (ROOT / "tests" / "data" / "captures", "MANIFEST.tsv"),
    (ROOT / "spec" / "examples", "INDEX.tsv"),
)

__all__ = ["Measurement", "main", "measure"]


@dataclass(frozen=True)
class Measurement:
    """Median microseconds per body, plain and strict, over every body measured."""

    bodies: int
    plain_us: float
    strict_us: float

    @property
    def ratio(self) -> float:
        """Strict time over plain time."""
        return self.strict_us / self.plain_us


def _responses() -> list[tuple[str, httpx.Response]]:
    validator = bundled_validator()
    found = []
    for base, manifest in SOURCES:
        with (base / manifest).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if row["file"].startswith("(") or not row["status"].startswith("2"):
                    continue
                op = validator.match(row["method"], row["path_template"])
                operation = OPERATIONS[op.operation_id]
                if operation.result_kind != "model":
                    continue
                request = httpx.Request(row["method"], f"https://api.discogs.com{op.path_template}")
                body = (base / row["file"]).read_bytes()
                found.append(
                    (
                        op.operation_id,
                        httpx.Response(int(row["status"]), content=body, request=request),
                    )
                )
    return found


def _time(op_id: str, response: httpx.Response, *, strict: bool, rounds: int) -> float:
    operation = OPERATIONS[op_id]
    read_response(operation, response, strict=strict)  # compile and warm up once
    start = time.perf_counter()
    for _ in range(rounds):
        read_response(operation, response, strict=strict)
    return (time.perf_counter() - start) / rounds * 1e6


def measure(rounds: int = 200) -> Measurement:
    """Plain and strict reading of every success body, median per body."""
    plain, strict = [], []
    responses = _responses()
    for op_id, response in responses:
        plain.append(_time(op_id, response, strict=False, rounds=rounds))
        strict.append(_time(op_id, response, strict=True, rounds=rounds))
    return Measurement(len(responses), statistics.median(plain), statistics.median(strict))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    result = measure(args.rounds)
    print(
        f"{result.bodies} bodies: plain {result.plain_us:.1f} µs, strict {result.strict_us:.1f} µs"
        f" per body (median); strict = {result.ratio:.2f}× plain"
    )


if __name__ == "__main__":
    main()
