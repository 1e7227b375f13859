"""The typer options every command shares (`--base-url`, `--token`, `--debug`, ...).

Apart from `_options` so that code sharing its reporting and client setup without typer's
command declarations (`musicagent api`, which runs a click tree of its own) does not load typer.
"""

from __future__ import annotations

from typing import Annotated

import typer

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="DISCOGS_BASE_URL",
        help="API root (default https://api.discogs.com; a sandbox URL for tests).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="DISCOGS_TOKEN",
        help="Personal access token (default: DISCOGS_TOKEN, then saved OAuth tokens).",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the full traceback when something fails.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print raw JSON (for piping).")]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Do not read or write the HTTP cache.")
]
TrustEnvFileOption = Annotated[
    bool,
    typer.Option(
        "--trust-env-file",
        help="Send credentials to a base URL that came from a .env file (refused otherwise).",
    ),
]
