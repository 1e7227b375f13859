"""`musicagent sandbox`: serve a local Discogs API (the loopback sandbox) until interrupted."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from discogs_sandbox.config import SANDBOX_TOKEN, FaultConfig, SandboxConfig
from musicagent.cli._app import app

_DEFAULTS = SandboxConfig()
_FAULTS = FaultConfig()


def _ready(sandbox: Any) -> None:
    typer.echo(f"Discogs sandbox listening on {sandbox.base_url} (token: {SANDBOX_TOKEN})")
    typer.echo(
        "  users: sandbox (sandbox-token), vinyl.collector, crate_digger, record-shop "
        "(<name>-token); consumer key/secret: sandbox-key / sandbox-secret"
    )
    typer.echo(f"  stats: {sandbox.base_url}/__sandbox/stats — Ctrl+C stops")
    for line in client_settings(sandbox.config):
        typer.echo(line)


def client_settings(config: SandboxConfig) -> list[str]:
    """What a client must be told about a non-default rate limit.

    Discogs sends the limit (``X-Discogs-Ratelimit``) but no window, so a client paced for
    60 s would crawl along a sandbox with a 5 s window and look frozen.
    """
    if config.rate_window == 60 and config.rate_limit == 60:
        return []
    return [
        "  the rate window is not Discogs' 60 s; tell the client, which cannot see it:",
        f"    export DISCOGS_RATE_LIMIT_WINDOW={config.rate_window:g}"
        f" DISCOGS_RATE_LIMIT_REQUESTS={config.rate_limit}",
    ]


@app.command("sandbox")
def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = _DEFAULTS.host,
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = _DEFAULTS.port,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = _DEFAULTS.seed,
    collection_size: Annotated[
        int, typer.Option(help="Items in each user's collection.")
    ] = _DEFAULTS.collection_size,
    wantlist_size: Annotated[
        int | None, typer.Option(help="Items in each wantlist (default: collection size / 5).")
    ] = None,
    inventory_size: Annotated[
        int, typer.Option(help="Listings in each user's inventory.")
    ] = _DEFAULTS.inventory_size,
    rate_limit: Annotated[
        int, typer.Option(help="Requests per window with credentials.")
    ] = _DEFAULTS.rate_limit,
    anonymous_rate_limit: Annotated[
        int, typer.Option(help="Requests per window without credentials (per IP).")
    ] = _DEFAULTS.anonymous_rate_limit,
    rate_window: Annotated[
        float, typer.Option(help="Length of the moving rate-limit window, in seconds.")
    ] = _DEFAULTS.rate_window,
    p5xx: Annotated[float, typer.Option(help="Fraction of requests answered 500/502/503.")] = 0.0,
    latency: Annotated[float, typer.Option(help="Seconds added to every answer.")] = 0.0,
    p_stall: Annotated[
        float, typer.Option(help="Fraction of requests held for --stall-seconds.")
    ] = 0.0,
    stall_seconds: Annotated[
        float, typer.Option(help="How long a stalled request is held.")
    ] = _FAULTS.stall_seconds,
    p_reset: Annotated[
        float, typer.Option(help="Fraction of responses whose connection is reset mid-body.")
    ] = 0.0,
    p_truncate: Annotated[
        float,
        typer.Option(help="Fraction of responses cut off half-way (body shorter than promised)."),
    ] = 0.0,
    p429: Annotated[
        float, typer.Option("--p429", help="Fraction of requests starting a burst of 429s.")
    ] = 0.0,
    burst_429: Annotated[
        int, typer.Option("--burst-429", help="Length of an injected 429 burst.")
    ] = _FAULTS.burst_429,
    retry_after: Annotated[
        float | None, typer.Option(help="Send Retry-After with this many seconds on 429s.")
    ] = None,
    preset_used: Annotated[
        int, typer.Option(help="Requests 'another program' already spent of each budget.")
    ] = 0,
    fault_seed: Annotated[
        int | None, typer.Option(help="Seed of the fault draws [default: --seed].")
    ] = None,
    self_check: Annotated[
        bool, typer.Option(help="Validate every body served against the spec (counts in stats).")
    ] = False,
    export_delay: Annotated[
        float,
        typer.Option(help="Seconds an inventory export or upload job takes (pending, processing)."),
    ] = _DEFAULTS.export_delay,
    rate_limit_scope: Annotated[
        str,
        typer.Option(help="What one rate-limit window counts: address (as Discogs) or credential."),
    ] = _DEFAULTS.rate_limit_scope,
) -> None:
    """Serve a local Discogs API that behaves like the real one, until Ctrl+C.

    Every operation of the spec is answered from generated data (same --seed, same data).

    The user `sandbox` has the personal token `sandbox-token`; writes persist while it runs.

    Rate limit and faults make it a test bed for clients:

      musicagent sandbox --port 8765

      musicagent sandbox --rate-limit 10 --rate-window 1 --p5xx 0.1 --p-reset 0.05

      curl -H 'User-Agent: me' http://127.0.0.1:8765/releases/1
    """
    try:
        config = SandboxConfig(
            host=host,
            port=port,
            seed=seed,
            collection_size=collection_size,
            wantlist_size=wantlist_size,
            inventory_size=inventory_size,
            rate_limit=rate_limit,
            anonymous_rate_limit=anonymous_rate_limit,
            rate_window=rate_window,
            self_check=self_check,
            export_delay=export_delay,
            rate_limit_scope=rate_limit_scope,
            faults=FaultConfig(
                p5xx=p5xx,
                latency=latency,
                p_stall=p_stall,
                stall_seconds=stall_seconds,
                p_reset=p_reset,
                p_truncate=p_truncate,
                p429=p429,
                burst_429=burst_429,
                retry_after=retry_after,
                preset_used=preset_used,
                seed=fault_seed,
            ),
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        from discogs_sandbox.server import Sandbox
    except ModuleNotFoundError as exc:
        from discogs_sandbox import INSTALL_HINT

        typer.echo(f"error: {INSTALL_HINT} ({exc.name} is not installed)", err=True)
        raise typer.Exit(1) from None
    # uvicorn handles SIGINT/SIGTERM itself and re-raises the signal once it has shut down;
    # no-op handlers make that last step a quiet exit instead of a traceback or a kill.
    previous = {signum: signal.signal(signum, _ignore) for signum in _STOP_SIGNALS}
    try:
        Sandbox(config).serve_forever(on_ready=_ready)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    typer.echo("Discogs sandbox stopped.")


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _ignore(signum: int, frame: Any) -> None:
    """Signal handler that does nothing (uvicorn has already stopped the server)."""
