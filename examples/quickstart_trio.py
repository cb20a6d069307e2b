"""The README's trio example: every event of a room as an async iterator.

python examples/quickstart_trio.py @username
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import sys

import trio

from webcast_proto import Chat, StreamEnd
from webcast_transports import TikTokLiveClient


async def main() -> None:
    async with TikTokLiveClient(sys.argv[1]) as client:
        async for event in client.events():  # connects on the first step
            if isinstance(event, Chat):
                print(f"{event.user.nickname}: {event.comment}")
            elif isinstance(event, StreamEnd):
                print("the stream ended")


trio.run(main)
