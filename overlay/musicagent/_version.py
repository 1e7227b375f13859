"""The package version, kept here by hand so reading it costs no metadata scan.

`tests/unit/test_imports_version.py` fails when this differs from ``version`` in
pyproject.toml: bump both together.
"""

from __future__ import annotations

__version__ = "0.1.0"
