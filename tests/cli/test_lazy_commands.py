"""The console script loads what the command it runs needs, and nothing else.

`musicagent api ...` runs the generated click tree without typer and the other commands;
any other known command loads its own module only. Each run is a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from discogs_sandbox import SANDBOX_TOKEN, Sandbox
from musicagent.cli import COMMAND_MODULES, app

pytestmark = pytest.mark.integration

PROBE = (
    "import sys\n"
    "sys.argv = ['musicagent', *sys.argv[1:]]\n"
    "from musicagent.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    prefixes = ('musicagent.cli', 'discogs_cli', 'typer')\n"
    "    loaded = sorted(m for m in sys.modules if m.startswith(prefixes))\n"
    "    sys.stderr.write('LOADED ' + ' '.join(loaded) + '\\n')\n"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=10_000) as server:
        yield server


def _run(sandbox: Sandbox, tmp_path: Path, *args: str) -> tuple[int, str, set[str]]:
    env = {
        **os.environ,
        "DISCOGS_BASE_URL": sandbox.base_url,
        "DISCOGS_TOKEN": SANDBOX_TOKEN,
        "DISCOGS_CACHE": "off",
        "XDG_CACHE_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True
    )
    loaded_line = [line for line in proc.stderr.splitlines() if line.startswith("LOADED ")]
    assert loaded_line, proc.stderr
    return proc.returncode, proc.stdout, set(loaded_line[-1].split()[1:])


def test_an_api_command_loads_one_group_and_no_other_command(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    code, out, loaded = _run(sandbox, tmp_path, "api", "database", "get-release", "1", "--json")
    assert code == 0
    assert json.loads(out)["id"] == 1
    assert "discogs_cli.database" in loaded
    assert not {"discogs_cli.marketplace", "musicagent.cli._app", "musicagent.cli.export"} & loaded
    assert "typer" not in loaded


def test_an_api_failure_keeps_its_exit_code_without_typer_s_entry(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    code, _, _ = _run(sandbox, tmp_path, "api", "database", "get-release", "999999999", "--json")
    assert code == 4
    code, _, _ = _run(sandbox, tmp_path, "api", "database", "get-release", "0")
    assert code == 2


def test_a_known_command_loads_its_own_module_only(sandbox: Sandbox, tmp_path: Path) -> None:
    code, out, loaded = _run(sandbox, tmp_path, "whoami", "--json")
    assert code == 0
    assert json.loads(out)["username"] == "sandbox"
    assert "musicagent.cli.account" in loaded
    assert not {"musicagent.cli.export", "musicagent.cli.api", "musicagent.cli.get"} & loaded


def test_help_still_lists_every_command(sandbox: Sandbox, tmp_path: Path) -> None:
    code, out, _ = _run(sandbox, tmp_path, "--help")
    assert code == 0
    for name in COMMAND_MODULES:
        assert name in out


def test_the_command_table_names_every_registered_command_and_its_module() -> None:
    registered: dict[str, str] = {}
    for command in app.registered_commands:
        assert command.callback is not None
        registered[command.name or command.callback.__name__] = command.callback.__module__
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None and isinstance(sub, typer.Typer)
        callback = sub.registered_commands[0].callback
        assert callback is not None
        registered[str(group.name)] = callback.__module__
    assert {name: f"musicagent.cli.{module}" for name, module in COMMAND_MODULES.items()} == (
        registered
    )
