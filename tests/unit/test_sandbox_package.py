"""The sandbox is a package of its own: the client never loads it, its plugin costs nothing."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_musicagent_never_loads_the_sandbox() -> None:
    loaded = _modules_after("import musicagent")
    assert not {"discogs_sandbox", "musicagent.testing", "starlette", "uvicorn"} & loaded


def test_the_pytest_plugin_loads_no_server_until_its_fixture_is_used() -> None:
    loaded = _modules_after("import discogs_sandbox.pytest_plugin")
    assert not {"starlette", "uvicorn", "discogs_sandbox.app", "discogs_sandbox.server"} & loaded


def test_the_compatibility_module_re_exports_the_public_names() -> None:
    import discogs_sandbox
    import musicagent.testing

    assert musicagent.testing.SANDBOX_TOKEN == discogs_sandbox.SANDBOX_TOKEN
    assert musicagent.testing.Sandbox is discogs_sandbox.Sandbox
