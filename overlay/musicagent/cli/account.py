"""`musicagent auth login|status|logout`, `musicagent whoami`, `musicagent ratelimit`."""

from __future__ import annotations

from typing import Annotated

import typer

from musicagent.auth import DEFAULT_AUTHORIZE_URL, OAuthFlow, TokenStore
from musicagent.cli._app import app
from musicagent.cli._options import (
    EXIT_AUTH,
    BaseUrlOption,
    DebugOption,
    JsonOption,
    TokenOption,
    console,
    fail,
    open_client,
    print_json,
    reported,
)
from musicagent.settings import DiscogsSettings

auth_app = typer.Typer(help="Sign in with OAuth, see who you are signed in as, sign out.")
app.add_typer(auth_app, name="auth")

KeyOption = Annotated[
    str | None,
    typer.Option(
        "--consumer-key", envvar="DISCOGS_CONSUMER_KEY", help="Your application's consumer key."
    ),
]
SecretOption = Annotated[
    str | None,
    typer.Option(
        "--consumer-secret",
        envvar="DISCOGS_CONSUMER_SECRET",
        help="Your application's consumer secret.",
    ),
]


@auth_app.command("login")
def login(
    consumer_key: KeyOption = None,
    consumer_secret: SecretOption = None,
    authorize_url: Annotated[
        str, typer.Option("--authorize-url", help="The Discogs authorize page.")
    ] = DEFAULT_AUTHORIZE_URL,
    verifier: Annotated[
        str | None,
        typer.Option("--verifier", help="The code Discogs shows after approval (else prompted)."),
    ] = None,
    base_url: BaseUrlOption = None,
    debug: DebugOption = False,
) -> None:
    """Authorise this computer with OAuth 1.0a and store the tokens (file mode 0600).

    Prints the Discogs page to open; after you approve, paste the code it shows.

    Examples:

      musicagent auth login --consumer-key KEY --consumer-secret SECRET

      DISCOGS_CONSUMER_KEY=KEY DISCOGS_CONSUMER_SECRET=SECRET musicagent auth login
    """
    if not consumer_key or not consumer_secret:
        fail(
            "OAuth login needs your application's consumer key and secret",
            "register an application at https://www.discogs.com/settings/developers, then pass "
            "--consumer-key/--consumer-secret or set DISCOGS_CONSUMER_KEY/DISCOGS_CONSUMER_SECRET",
            EXIT_AUTH,
        )
    settings = DiscogsSettings()
    with reported(debug):
        with OAuthFlow(
            consumer_key,
            consumer_secret,
            base_url=base_url or settings.base_url,
            authorize_url=authorize_url,
            user_agent=settings.user_agent,
        ) as flow:
            request_token = flow.fetch_request_token()
            console.print("Open this page, approve the access, and copy the code it shows:")
            console.print(flow.authorization_url(request_token), soft_wrap=True)
            code = verifier or typer.prompt("Verification code")
            access = flow.fetch_access_token(request_token, code.strip())
        path = TokenStore().save(access)
    console.print(f"Signed in; tokens saved to {path} (readable only by you).")


@auth_app.command("status")
def status(
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    debug: DebugOption = False,
) -> None:
    """Show which credential is in use and who Discogs says you are.

    Example:

      musicagent auth status
    """
    store = TokenStore()
    with reported(debug), open_client(base_url, token) as client:
        console.print(f"Credential: {client.auth!r}" if client.auth else "Credential: none")
        console.print(f"Saved OAuth tokens: {'yes' if store.load() else 'no'} ({store.path})")
        if client.auth is not None:
            identity = client.users.get_identity()
            console.print(f"Signed in as: [bold]{identity.username}[/] (id {identity.id})")


@auth_app.command("logout")
def logout() -> None:
    """Delete the saved OAuth tokens.

    Example:

      musicagent auth logout
    """
    removed = TokenStore().delete()
    console.print("Saved tokens removed." if removed else "No saved tokens.")


@app.command("whoami")
def whoami(
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    debug: DebugOption = False,
) -> None:
    """Print the user your credentials belong to.

    Example:

      musicagent whoami --token $DISCOGS_TOKEN
    """
    with reported(debug), open_client(base_url, token) as client:
        identity = client.users.get_identity()
        if json:
            print_json(identity.to_dict())
        else:
            console.print(f"{identity.username} (id {identity.id})")


@app.command("ratelimit")
def ratelimit(
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    debug: DebugOption = False,
) -> None:
    """Show the rate budget Discogs reports for your credentials (spends one request).

    Example:

      musicagent ratelimit
    """
    with reported(debug), open_client(base_url, token, no_cache=True) as client:
        if client.auth is not None:
            client.users.get_identity()
        else:
            client.database.get_release(1)
        state = client.rate_limit
    if state is None:
        fail("rate limiting is switched off for this client", None, 1)
    if json:
        print_json(
            {
                "limit": state.limit,
                "used": state.used,
                "remaining": state.remaining,
                "window": state.window,
                "next_free_in": state.next_free_in,
            }
        )
        return
    console.print(
        f"{state.remaining} of {state.limit} requests left in the moving {state.window:g} s window"
        f" ({state.used} used); next free slot in {state.next_free_in:.1f} s"
    )
