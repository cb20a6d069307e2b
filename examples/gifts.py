"""Count a room's gifts once each, streaks included (asyncio).

A streakable gift (type 1) arrives again and again while the viewer keeps tapping, with a growing
``repeat_count``, then once more with ``repeat_end``; even a single one arrives twice. So this script
shows a streak while it runs (``gift.is_streak_in_progress``) and counts it once, from the core's
``GiftStreakTracker``, which also closes streaks whose final event never came. The gift list is
attached to each event (``enable_extended_gift_info``), so the diamonds are known.

    python examples/gifts.py @username
    python examples/gifts.py mock.host --mock-url http://127.0.0.1:PORT
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import TYPE_CHECKING

import anyio

from webcast_proto.config import Endpoints
from webcast_proto.streaks import GiftStreakTracker
from webcast_transports import TikTokLiveClient

if TYPE_CHECKING:
    from webcast_proto import Gift


async def main(args: argparse.Namespace) -> None:
    endpoints = Endpoints.from_base_url(args.mock_url) if args.mock_url else None
    client = TikTokLiveClient(args.username, endpoints=endpoints, enable_extended_gift_info=True)
    tracker = GiftStreakTracker(timeout=10.0)
    diamonds: Counter[str] = Counter()

    def count(now: float) -> None:
        for ended in tracker.tick(now):
            diamonds[ended.user.unique_id] += ended.total_diamonds
            print(f"  {ended.user.unique_id}: {ended.final_count} × {ended.gift_name} (timed out)")

    @client.on("gift")
    def on_gift(gift: Gift) -> None:
        now = time.monotonic()
        count(now)
        if gift.is_streak_in_progress:
            print(f"  … {gift.user.unique_id} is sending {gift.gift_name} × {gift.repeat_count}")
        for ended in tracker.receive_gift(gift, now):
            info = gift.extended_gift_info
            price = f" ({info.diamond_count} diamonds each)" if info is not None else ""
            diamonds[ended.user.unique_id] += ended.total_diamonds
            print(f"{ended.user.unique_id} sent {ended.final_count} × {ended.gift_name}{price}")

    async with client:
        await client.connect()
        with anyio.move_on_after(args.seconds):
            await client.wait_until_disconnected()
    for ended in tracker.close_all():
        diamonds[ended.user.unique_id] += ended.total_diamonds
    print("top gifters:", ", ".join(f"{user} {total}" for user, total in diamonds.most_common(3)) or "nobody")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", help="the host's @username")
    parser.add_argument("--mock-url", help="base URL of a mock WebCast server")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    anyio.run(main, parser.parse_args())
