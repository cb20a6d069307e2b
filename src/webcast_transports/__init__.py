"""The I/O side of webcast: the TikTok LIVE client for asyncio and trio (:class:`TikTokLiveClient`)
and for blocking code (:class:`SyncTikTokLiveClient`), the mock WebCast server
(:mod:`webcast_transports.mock`) and the ``webcast`` command. Everything protocol-shaped lives in
:mod:`webcast_proto`.

Both clients have the same surface; the blocking one is generated from the async one
(``scripts/unasync.py``). See ``docs/transports.md``.
"""

from __future__ import annotations

from webcast_transports._async.client import AsyncEventStream, TikTokLiveClient
from webcast_transports._errors import HandlerError
from webcast_transports._events import Reconnecting
from webcast_transports._names import SEED_EVENT_NAMES, event_name
from webcast_transports._options import ClientState, ReconnectPolicy
from webcast_transports._sync.client import SyncEventStream, SyncTikTokLiveClient

__all__ = [
    "SEED_EVENT_NAMES",
    "AsyncEventStream",
    "ClientState",
    "HandlerError",
    "ReconnectPolicy",
    "Reconnecting",
    "SyncEventStream",
    "SyncTikTokLiveClient",
    "TikTokLiveClient",
    "event_name",
]
