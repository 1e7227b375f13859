"""The async client: several requests at once, and `async for` over every page.

DISCOGS_TOKEN=... python examples/async_usage.py
"""

from __future__ import annotations

import asyncio

from musicagent import AsyncDiscogs


async def main() -> None:
    async with AsyncDiscogs() as client:
        # Concurrent calls share one rate budget: the limiter paces them, nothing gets a 429.
        releases = await asyncio.gather(
            *(client.database.get_release(release_id) for release_id in (249504, 1, 2))
        )
        for release in releases:
            print(f"{release.id}: {release.title}")

        me = (await client.users.get_identity()).username
        count = 0
        async for want in client.wantlist.iter_wantlist(me):
            count += 1
            if count <= 3:
                title = want.basic_information.title if want.basic_information else "?"
                print(f"  wants {title}")
        print(f"{me} wants {count} releases")


if __name__ == "__main__":
    asyncio.run(main())
