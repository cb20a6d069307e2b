# Generated from src/webcast_transports/_async/__init__.py by scripts/unasync.py: do not edit.
"""The transport on blocking sockets, without an event loop: driver, HTTP, WebSocket and client."""

from __future__ import annotations

from webcast_transports._sync.client import SyncEventStream, SyncTikTokLiveClient

__all__ = ["SyncEventStream", "SyncTikTokLiveClient"]
