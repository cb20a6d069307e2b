"""The I/O side of webcast: drivers for asyncio, trio and blocking sockets, the client, the mock
WebCast server and the ``webcast`` command. Everything protocol-shaped lives in :mod:`webcast_proto`.
"""

from __future__ import annotations

__all__: list[str] = []
