"""Print a room's chat from plain blocking code: no ``async``, no event loop.

``SyncTikTokLiveClient`` has the surface of ``TikTokLiveClient`` without ``await``; it runs the
connection in a thread of its own and calls the handlers there.

    python examples/blocking_chat.py @username
    python examples/blocking_chat.py mock.host --mock-url http://127.0.0.1:PORT
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse
import threading
from typing import TYPE_CHECKING

from webcast_proto.config import Endpoints
from webcast_transports import SyncTikTokLiveClient

if TYPE_CHECKING:
    from webcast_proto import Chat, Disconnected, Social


def main(args: argparse.Namespace) -> None:
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = SyncTikTokLiveClient(args.username, endpoints=endpoints)

    @client.on("chat")
    def on_chat(event: Chat) -> None:
        print(f"{event.user.unique_id}: {event.comment}")

    @client.on("social")
    def on_social(event: Social) -> None:
        print(f"{event.user.unique_id}: {event.kind.value}")

    @client.on("disconnected")
    def on_disconnected(event: Disconnected) -> None:
        print(f"disconnected ({event.reason})")

    timer = threading.Timer(args.seconds or 0.0, client.disconnect)
    if args.seconds is not None:
        timer.start()  # disconnect() is safe from any thread
    try:
        state = client.run()  # connects, and returns after the final `disconnected`
    finally:
        timer.cancel()
    print(f"done; room {state.room_id}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    main(parser.parse_args())
