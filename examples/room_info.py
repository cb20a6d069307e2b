"""Show a room's info and gift list without connecting to its stream (asyncio).

python examples/room_info.py @username
python examples/room_info.py mock.host --mock-url http://127.0.0.1:PORT
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse

import anyio

from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient


async def main(args: argparse.Namespace) -> None:
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = TikTokLiveClient(args.username, endpoints=endpoints)
    info = await client.get_room_info()
    owner = info.owner
    print(f"room {info.room_id}: {info.title!r}, {'live' if info.is_live else 'not live'}")
    if owner is not None:
        print(f"host: {owner.nickname} (@{owner.unique_id})")
    print(f"viewers: {info.user_count}")
    gifts = await client.get_available_gifts()
    print(f"{len(gifts)} gifts, e.g.:")
    for gift in sorted(gifts, key=lambda g: g.diamond_count)[:5]:
        print(f"  {gift.name}: {gift.diamond_count} diamonds")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    anyio.run(main, parser.parse_args())
