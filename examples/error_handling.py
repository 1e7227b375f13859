"""What goes wrong, and how it shows: bad arguments, missing things, refused credentials.

DISCOGS_TOKEN=... python examples/error_handling.py
"""

from __future__ import annotations

from musicagent import (
    AuthenticationError,
    Discogs,
    DiscogsAPIError,
    InvalidParameterError,
    ResourceNotFoundError,
)


def main() -> None:
    with Discogs() as client:
        # Bad input is refused before anything is sent, naming the parameter and what is allowed.
        try:
            client.database.search(q="nirvana", per_page=500)
        except InvalidParameterError as err:
            print(f"refused before sending: {err.parameter} (allowed: {err.allowed})")

        try:
            client.marketplace.get_listing(1, curr_abbr="XYZ")  # type: ignore[arg-type]
        except InvalidParameterError as err:
            print(f"refused before sending: {err}")

        # Something that does not exist: a typed error with the server's message.
        try:
            client.database.get_release(999_999_999)
        except ResourceNotFoundError as err:
            print(f"not found: {err.status} {err.message} ({err.method} {err.url})")

    # Wrong credentials: AuthenticationError; the token never appears in the message.
    with Discogs(token="not-a-valid-token") as stranger:
        try:
            stranger.users.get_identity()
        except AuthenticationError as err:
            print(f"refused: {err}")
        except DiscogsAPIError as err:  # any other API failure
            print(f"failed: {err}")


if __name__ == "__main__":
    main()
