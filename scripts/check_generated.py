"""Fail, showing the diff, when generated/ is not what spec/discogs.yaml compiles into.

python scripts/check_generated.py
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import ROOT, generate

PACKAGES = ("discogs_api", "discogs_models", "discogs_spec", "discogs_cli")


def _files(base: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (base / pkg).rglob("*"):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and ".ruff_cache" not in path.parts
            ):
                found[str(path.relative_to(base))] = path
    return found


def main() -> int:
    committed = ROOT / "generated"
    with tempfile.TemporaryDirectory(prefix="musicagent-check-") as tmp:
        fresh = Path(tmp)
        generate(fresh)
        old, new = _files(committed), _files(fresh)
        drift = 0
        for name in sorted(old.keys() | new.keys()):
            a = old[name].read_text(encoding="utf-8").splitlines(True) if name in old else []
            b = new[name].read_text(encoding="utf-8").splitlines(True) if name in new else []
            if a != b:
                drift += 1
                sys.stdout.writelines(
                    difflib.unified_diff(a, b, f"generated/{name}", f"regenerated/{name}")
                )
    if drift:
        print(f"\ngenerated/ is out of date: {drift} file(s) differ. Run `make generate`.")
        return 1
    print("generated/ matches spec/discogs.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
