"""@lionralfs/discogs-client 4.1.4 (Node) against the sandbox: its calls, OAuth flow and 429.

The client is installed from the npm registry into ``tests/foreign/node/node_modules`` (git
ignored) the first time these tests run; ``.ci/run`` installs ``node`` and ``npm``. Without
them the tests are skipped, saying so. The client builds ``https://`` URLs and names
api.discogs.com for OAuth, so ``register.mjs`` hands it a ``node-fetch`` that sends each
request to the sandbox instead (scheme and host only; path, headers and body are the client's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from discogs_sandbox import Sandbox

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).parent / "node"
CLIENT = NODE_DIR / "node_modules" / "@lionralfs" / "discogs-client" / "package.json"
_TIMEOUT = 120


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, with the client installed beside the harness."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the Node client tests (.ci/run installs them)")
    if not CLIENT.exists():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if installed.returncode != 0:
            pytest.fail(f"npm ci failed in {NODE_DIR.name}: {installed.stderr.strip()[-500:]}")
    return node


def _run(node: str, sandbox: Sandbox, part: str) -> list[str]:
    finished = subprocess.run(
        [node, "--import", "./register.mjs", "lionralfs.mjs", part],
        cwd=NODE_DIR,
        env={**os.environ, "SANDBOX_URL": sandbox.base_url},
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout.splitlines()


def test_every_call_it_has(node: str, sandbox: Sandbox) -> None:
    sandbox.reset()
    lines = _run(node, sandbox, "calls")
    assert lines[-1] == "done 13", lines
    assert sandbox.stats()["invalid_bodies"] == []
    seen = set(sandbox.stats()["operations"])
    # Everything but the uploads, which this client has no call for.
    assert {"get_master_versions", "edit_listing", "download_inventory_export"} <= seen
    assert len(seen) >= 50, sorted(seen)


def test_its_oauth_flow(node: str, sandbox: Sandbox) -> None:
    # Its token steps send millisecond timestamps and 128-character nonces, as Discogs takes.
    assert _run(node, sandbox, "oauth")[-1] == "done 1"


def test_its_429_handling(node: str) -> None:
    with Sandbox(rate_limit=2, rate_window=1.0) as sandbox:
        assert _run(node, sandbox, "429")[-1] == "done 2"
        assert sandbox.stats()["status_429"] >= 2
