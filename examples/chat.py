"""Print a TikTok LIVE room's chat, joins and likes as they happen (asyncio).

    python examples/chat.py @username
    python examples/chat.py mock.host --mock-url http://127.0.0.1:PORT

The second form reads the mock server (``python -m webcast_transports.mock --speed 10`` prints its
URL). The script ends when the stream ends, after ``--seconds``, or on Ctrl-C.
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import anyio

from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient

if TYPE_CHECKING:
    from webcast_proto import Chat, Connected, Disconnected, Like, Member, StreamEnd


def make_client(args: argparse.Namespace) -> TikTokLiveClient:
    """A client for the username, pointed at the mock server when ``--mock-url`` is given."""
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = TikTokLiveClient(args.username, endpoints=endpoints)

    @client.on("connected")
    def on_connected(event: Connected) -> None:
        print(f"connected to room {event.room_id}")

    @client.on("chat")
    def on_chat(event: Chat) -> None:
        print(f"{event.user.unique_id}: {event.comment}")

    @client.on("member")
    def on_member(event: Member) -> None:
        print(f"{event.user.unique_id} joined")

    @client.on("like")
    def on_like(event: Like) -> None:
        print(f"{event.user.unique_id} sent {event.like_count} likes ({event.total_like_count} in all)")

    @client.on("streamEnd")
    def on_stream_end(event: StreamEnd) -> None:
        print("the stream ended")

    @client.on("disconnected")
    def on_disconnected(event: Disconnected) -> None:
        print(f"disconnected ({event.reason})")

    @client.on("error")
    def on_error(error: Exception) -> None:
        print(f"error: {error}")

    return client


async def main(args: argparse.Namespace) -> None:
    client = make_client(args)
    async with client:
        state = await client.connect()
        if state.room_info is not None:
            print(f"watching {state.room_info.title!r}")
        with anyio.move_on_after(args.seconds):
            await client.wait_until_disconnected()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    anyio.run(main, parser.parse_args())
