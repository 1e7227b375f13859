"""Basic usage: fetch a release, an artist and who you are.

Run against Discogs with a personal token:

    DISCOGS_TOKEN=... python examples/basic_usage.py

or against the local sandbox:

    musicagent sandbox --port 8765 &
    export DISCOGS_BASE_URL=http://127.0.0.1:8765 DISCOGS_TOKEN=sandbox-token
    python examples/basic_usage.py
"""

from __future__ import annotations

from musicagent import Discogs


def main() -> None:
    # Credentials and the API root come from DISCOGS_* environment variables or a .env file.
    with Discogs() as client:
        release = client.database.get_release(249504)
        artists = ", ".join(artist.name for artist in release.artists or [])
        print(f"Release {release.id}: {artists} - {release.title} ({release.year})")
        for track in release.tracklist or []:
            print(f"  {track.position:>3} {track.title} {track.duration or ''}")

        artist = client.database.get_artist(108713)
        print(f"Artist {artist.id}: {artist.name}")

        me = client.users.get_identity()
        print(f"Signed in as {me.username}")

        budget = client.rate_limit
        if budget is not None:
            print(f"Rate budget: {budget.remaining} of {budget.limit} left")


if __name__ == "__main__":
    main()
