"""The transport on anyio (asyncio and trio): driver, HTTP, WebSocket and client."""

from __future__ import annotations

from webcast_transports._async.client import AsyncEventStream, TikTokLiveClient

__all__ = ["AsyncEventStream", "TikTokLiveClient"]
