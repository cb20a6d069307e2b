"""The README's blocking example: no async, no event loop.

python examples/quickstart_blocking.py @username
"""

# ruff: noqa: T201, TC001  # an example prints what it receives; its imports read plainly

from __future__ import annotations

import sys

from webcast_proto import Chat, Like
from webcast_transports import SyncTikTokLiveClient

client = SyncTikTokLiveClient(sys.argv[1])


def on_chat(event: Chat) -> None:
    print(f"{event.user.nickname}: {event.comment}")


def on_like(event: Like) -> None:
    print(f"{event.user.nickname} sent {event.like_count} likes")


client.on("chat", on_chat)
client.on("like", on_like)
state = client.run()  # handlers run in the client's thread; returns after the final "disconnected"
print(f"done: room {state.room_id}")
