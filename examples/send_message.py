"""Send a chat message to a room as a logged-in account (asyncio).

The account is named by its ``sessionid`` cookie (from a browser where it is logged in to TikTok),
given by ``--session-id`` or the ``TIKTOK_SESSION_ID`` environment variable. It is a secret: the
library sends it only in cookies, never in a URL or a log line.

    TIKTOK_SESSION_ID=... python examples/send_message.py @username "hello!"
    python examples/send_message.py mock.host "hello!" --mock-url http://127.0.0.1:PORT --session-id any
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse
import os
import sys

import anyio

from webcast_proto import Chat, InvalidSession
from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient


async def main(args: argparse.Namespace) -> int:
    session_id = args.session_id or os.environ.get("TIKTOK_SESSION_ID")
    if not session_id:
        print("give --session-id or set TIKTOK_SESSION_ID", file=sys.stderr)
        return 2
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = TikTokLiveClient(args.username, endpoints=endpoints, session_id=session_id)
    seen = anyio.Event()

    @client.on("chat")
    def on_chat(event: Chat) -> None:
        if event.comment == args.text:
            print(f"the room shows it: {event.user.nickname}: {event.comment}")
            seen.set()

    async with client:
        await client.connect()
        try:
            sent = await client.send_message(args.text)
        except InvalidSession:
            print("TikTok refused the session id (expired?)", file=sys.stderr)
            return 1
        print(f"sent (server time {sent.server_time})")
        with anyio.move_on_after(args.wait):
            await seen.wait()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("text", help="the message")
    parser.add_argument("--session-id", help="the account's sessionid cookie")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the message to show")
    sys.exit(anyio.run(main, parser.parse_args()))
