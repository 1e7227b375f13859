"""`musicagent mcp` driven by the MCP SDK's own client over stdio, against the sandbox."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from discogs_cli import COMMANDS

from discogs_sandbox import SANDBOX_TOKEN, Sandbox

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

pytestmark = pytest.mark.integration

READS = {c.operation_id for c in COMMANDS if not c.writes}
WRITES = {c.operation_id for c in COMMANDS if c.writes}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limit=10_000, collection_size=60) as server:
        yield server


def _params(base_url: str, tmp: Path, *extra: str) -> StdioServerParameters:
    script = Path(sys.executable).parent / "musicagent"
    env = {
        **os.environ,
        "DISCOGS_BASE_URL": base_url,
        "DISCOGS_TOKEN": SANDBOX_TOKEN,
        "DISCOGS_CACHE": "off",
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }
    return StdioServerParameters(command=str(script), args=["mcp", *extra], env=env)


def _session(params: StdioServerParameters, body: Any) -> Any:
    async def main() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            return await body(s)

    return anyio.run(main)


def test_tools_are_the_read_operations_and_calls_return_bodies(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async def body(s: ClientSession) -> Any:
        tools = (await s.list_tools()).tools
        release = await s.call_tool("get_release", {"release_id": 1})
        folder = {"username": "sandbox", "folder_id": 0}
        wants = await s.call_tool("get_collection_items_by_folder", folder)
        page2 = await s.call_tool("get_collection_items_by_folder", {**folder, "page": 2})
        me = await s.call_tool("get_identity", {})
        bad = await s.call_tool("get_release", {"release_id": 0})
        unknown = await s.call_tool("get_release", {"release_id": 1, "colour": "red"})
        write = await s.call_tool("create_collection_folder", {"username": "sandbox", "name": "X"})
        resources = await s.list_resources()
        budget = await s.read_resource("discogs://rate-limit")
        folders = await s.read_resource("discogs://collection/folders")
        identity = await s.read_resource("discogs://identity")
        return locals()

    got = _session(_params(sandbox.base_url, tmp_path), body)
    tools = {t.name: t for t in got["tools"]}
    assert set(tools) == READS
    schema = tools["get_release"].input_schema
    assert schema["required"] == ["release_id"] and "curr_abbr" in schema["properties"]
    assert "Get a release" in (tools["get_release"].description or "")

    assert not got["release"].is_error
    assert json.loads(got["release"].content[0].text)["id"] == 1
    wants = got["wants"]
    assert len(json.loads(wants.content[0].text)["releases"]) == 25  # paged for the agent
    assert "page=2" in wants.content[1].text
    assert json.loads(got["page2"].content[0].text)["pagination"]["page"] == 2
    assert json.loads(got["me"].content[0].text)["username"] == "sandbox"

    assert got["bad"].is_error and "release_id" in got["bad"].content[0].text
    assert got["unknown"].is_error and "colour" in got["unknown"].content[0].text
    assert got["write"].is_error and "--allow-writes" in got["write"].content[0].text

    uris = {str(r.uri) for r in got["resources"].resources}
    assert uris == {"discogs://identity", "discogs://collection/folders", "discogs://rate-limit"}
    assert json.loads(got["budget"].contents[0].text)["limit"] >= 1
    assert json.loads(got["folders"].contents[0].text)["folders"][0]["id"] == 0
    assert json.loads(got["identity"].contents[0].text)["username"] == "sandbox"


def test_writes_are_offered_only_when_allowed_and_say_so(sandbox: Sandbox, tmp_path: Path) -> None:
    async def body(s: ClientSession) -> Any:
        tools = (await s.list_tools()).tools
        made = await s.call_tool("create_collection_folder", {"username": "sandbox", "name": "Y"})
        return tools, made

    tools, made = _session(_params(sandbox.base_url, tmp_path, "--allow-writes"), body)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == READS | WRITES
    assert "changes the user's Discogs account" in (by_name["edit_listing"].description or "")
    assert not made.is_error and json.loads(made.content[0].text)["name"] == "Y"


def test_a_429_from_the_sandbox_is_absorbed(tmp_path: Path) -> None:
    # Another program spends the budget once the server is up (spent at sandbox start, a slow
    # start on a loaded machine could outlast the window): the sandbox answers 429 until the
    # window moves on; the client waits and retries, and the agent sees only the answer.
    with Sandbox(rate_limit=3, rate_window=5.0) as server:

        async def body(s: ClientSession) -> Any:
            server.set_faults(preset_used=3)
            return [await s.call_tool("get_release", {"release_id": n}) for n in (1, 2)]

        params = _params(server.base_url, tmp_path)
        assert params.env is not None
        # The client knows the sandbox's rule, as a user would configure it for this server.
        params.env |= {"DISCOGS_RATE_LIMIT_REQUESTS": "3", "DISCOGS_RATE_LIMIT_WINDOW": "5"}
        results = _session(params, body)
        assert [r.is_error for r in results] == [False, False]
        assert server.stats()["status_429"] >= 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_http(base_url: str, tmp: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    params = _params(base_url, tmp, "--http", "--port", str(port), *extra)
    return subprocess.Popen(
        [params.command, *params.args],
        env=params.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    # Polls the port (no sleep-and-hope): the server is ready once it accepts a connection.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"musicagent mcp --http exited with {process.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("musicagent mcp --http never listened")


def test_streamable_http_serves_the_same_tools_on_loopback(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    process = _serve_http(sandbox.base_url, tmp_path, port)
    try:
        _wait_listening(process, port)

        async def main() -> Any:
            url = f"http://127.0.0.1:{port}/mcp"
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as s,
            ):
                await s.initialize()
                tools = (await s.list_tools()).tools
                release = await s.call_tool("get_release", {"release_id": 1})
                bad = await s.call_tool("get_release", {"release_id": 1, "colour": "red"})
                return tools, release, bad

        tools, release, bad = anyio.run(main)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
    assert {t.name for t in tools} == READS
    assert not release.is_error and json.loads(release.content[0].text)["id"] == 1
    assert bad.is_error and "colour" in bad.content[0].text


def test_streamable_http_refuses_an_address_other_than_loopback(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    params = _params(sandbox.base_url, tmp_path, "--http", "--host", "0.0.0.0")
    done = subprocess.run(
        [params.command, *params.args], env=params.env, capture_output=True, timeout=60
    )
    err = done.stderr.decode()
    assert done.returncode == 2
    assert "--host" in err and "loopback" in err and "Traceback" not in err
