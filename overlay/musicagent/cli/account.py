"""`musicagent auth login|status|logout`, `musicagent whoami`, `musicagent ratelimit`."""

from __future__ import annotations

from typing import Annotated

import typer

from musicagent.auth import DEFAULT_AUTHORIZE_URL, OAuthFlow, TokenStore
from musicagent.cli._app import app
from musicagent.cli._options import (
    EXIT_AUTH,
    TOKEN_HINT,
    BaseUrlOption,
    Credential,
    DebugOption,
    JsonOption,
    TokenOption,
    TrustEnvFileOption,
    choose_credential,
    command_settings,
    console,
    fail,
    open_client,
    print_json,
    reported,
    use_credential,
)
from musicagent.cli.safe_text import markup, text

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
    use_credential(Credential("key-secret", "from --consumer-key and --consumer-secret"))
    with reported(debug):
        settings = command_settings(base_url=base_url)
        with OAuthFlow(
            consumer_key,
            consumer_secret,
            base_url=base_url or settings.base_url,
            authorize_url=authorize_url,
            user_agent=settings.user_agent,
        ) as flow:
            request_token = flow.fetch_request_token()
            console.print("Open this page, approve the access, and copy the code it shows:")
            console.print(text(flow.authorization_url(request_token)), soft_wrap=True)
            code = verifier or typer.prompt("Verification code")
            access = flow.fetch_access_token(request_token, code.strip())
        # Every later request is signed with the application's key and secret as well as the
        # token: without them the saved token would be useless to the next command.
        path = TokenStore().save(access, consumer_key=consumer_key, consumer_secret=consumer_secret)
    console.print(
        text(
            f"Signed in; the access token and your application's key and secret are saved to "
            f"{path} (readable only by you). Later commands use them when no --token or "
            "DISCOGS_TOKEN is given."
        ),
        soft_wrap=True,
    )


@auth_app.command("status")
def status(
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Show which credential is in use, why, and who Discogs says you are.

    Example:

      musicagent auth status
    """
    store = TokenStore()
    with reported(debug):
        settings = command_settings(trust_env_file=trust_env_file, base_url=base_url)
        credential, _ = choose_credential(token, settings, store)
        console.print(text(f"Credential: {credential.describe()}"), soft_wrap=True)
        console.print(text(f"Saved OAuth login: {_saved(store)} ({store.path})"), soft_wrap=True)
        if credential.kind in ("none", "key-secret"):
            return  # no user to ask Discogs about
        with open_client(base_url, token, settings=settings) as client:
            identity = client.users.get_identity()
        console.print(
            f"Signed in as: [bold]{markup(identity.username)}[/] (id {markup(identity.id)})"
        )


def _saved(store: TokenStore) -> str:
    """Whether a login is saved, and whether it can be used, in words."""
    try:
        login = store.load_login()
    except ValueError as exc:
        return f"unreadable ({exc})"
    if login is None:
        return "none"
    if login.auth() is None:
        return (
            "yes, but without the application's key and secret (saved by an older version): "
            "run `musicagent auth login` again, or set DISCOGS_CONSUMER_KEY and "
            "DISCOGS_CONSUMER_SECRET"
        )
    return "yes"


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
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Print the user your credentials belong to.

    Example:

      musicagent whoami --token $DISCOGS_TOKEN
    """
    with reported(debug):
        settings = command_settings(trust_env_file=trust_env_file, base_url=base_url)
        credential, _ = choose_credential(token, settings)
        if credential.kind == "none":
            fail("whoami needs credentials, and none are configured", TOKEN_HINT, EXIT_AUTH)
        if credential.kind == "key-secret":
            fail(
                "an application key and secret identify no user; whoami needs a personal "
                "token or an OAuth login",
                TOKEN_HINT,
                EXIT_AUTH,
            )
        with open_client(base_url, token, settings=settings) as client:
            identity = client.users.get_identity()
        if json:
            print_json(identity.to_dict())
        else:
            console.print(text(f"{identity.username} (id {identity.id})"))


@app.command("ratelimit")
def ratelimit(
    json: JsonOption = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    trust_env_file: TrustEnvFileOption = False,
    debug: DebugOption = False,
) -> None:
    """Show the rate budget Discogs reports for your credentials (spends one request).

    Example:

      musicagent ratelimit
    """
    with (
        reported(debug),
        open_client(base_url, token, no_cache=True, trust_env_file=trust_env_file) as client,
    ):
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
