"""The README's first example: a room's chat and gifts as they happen, with asyncio.

python examples/quickstart.py @username
"""

# ruff: noqa: T201, TC001  # an example prints what it receives; its imports read plainly

from __future__ import annotations

import asyncio
import sys

from webcast_proto import Chat, Gift
from webcast_transports import TikTokLiveClient

client = TikTokLiveClient(sys.argv[1])  # "@username"


@client.on("chat")
async def on_chat(event: Chat) -> None:
    print(f"{event.user.nickname}: {event.comment}")


@client.on("gift")
async def on_gift(event: Gift) -> None:
    if event.is_final:  # a streak of gifts counts once, on its last event
        print(f"{event.user.nickname} sent {event.repeat_count} × {event.gift_name}")


asyncio.run(client.run())  # connects; returns when the stream ends
