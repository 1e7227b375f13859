"""The sandbox's line counts in docs/architecture.md come from the source, not from hand.

`python scripts/docs.py --check` fails when the page's counts are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from discogs_spec import load_spec

from discogs_sandbox.endpoints import HANDLERS, READS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import sandbox_lines


def test_every_operation_is_counted_as_what_answers_it() -> None:
    counted = {o.operation_id: o.answered_by for o in sandbox_lines.operations()}
    spec_ops = {op["operationId"] for item in load_spec()["paths"].values() for op in item.values()}
    assert set(counted) == spec_ops
    assert {op for op, by in counted.items() if by == "handler"} == set(HANDLERS)
    assert {op for op, by in counted.items() if by == "table row"} == set(READS)
