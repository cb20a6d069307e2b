"""Configuration values of the core: size limits (and, in the HTTP layer, endpoints and params).

Every limit is a ``DEFAULT_MAX_…`` constant whose comment says where the number comes from, collected
in the frozen :class:`Limits`, checked on construction. Exceeding a limit raises
:class:`~webcast_proto.RemoteProtocolError` naming the limit and the value, never ``MemoryError`` or
a silent cut (STYLE.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_DEDUP_WINDOW",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_MAX_HTTP_BODY_SIZE",
    "DEFAULT_MAX_JSON_DEPTH",
    "DEFAULT_MAX_MESSAGES_PER_FRAME",
    "DEFAULT_MAX_PENDING_BYTES",
    "Limits",
]

# A busy room's gzip'd "msg" frame is a few KiB to a few tens of KiB; 4 MiB is two orders of
# magnitude of headroom while still bounding what one WebSocket message may make us hold.
DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024

# Fetch results inflate ~5-10x; 8 MiB bounds a gzip bomb (which inflates ~1000x) long before it hurts
# while leaving room for the largest initial-data batches (history of a few hundred messages).
DEFAULT_MAX_DECOMPRESSED_SIZE = 8 * 1024 * 1024

# Real frames carry 1-40 messages; a polling body with initial data a few hundred. 10,000 bounds the
# per-frame event list a malicious peer could make us build.
DEFAULT_MAX_MESSAGES_PER_FRAME = 10_000

# Dedup remembers this many msg_ids: at a very busy room's ~200 messages/s this is ~50 s of history,
# more than any overlap between initial data, polling, the socket and a reconnect.
DEFAULT_MAX_DEDUP_WINDOW = 10_000

# Outgoing bytes queued but not drained by data_to_send(): acks and heartbeats are ~40 bytes each, so
# 1 MiB only fills if the transport has stopped writing, which then is a bug to surface.
DEFAULT_MAX_PENDING_BYTES = 1024 * 1024

# HTTP bodies (live page HTML ~0.5-1 MiB, room info ~50 KiB, gift list ~1 MiB, fetch bodies).
DEFAULT_MAX_HTTP_BODY_SIZE = 16 * 1024 * 1024

# JSON answers of the web API nest about 10 levels; 64 rejects pathological nesting early.
DEFAULT_MAX_JSON_DEPTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Size limits applied to everything a peer sends. All sizes are in bytes.

    Args:
        max_frame_size: largest WebSocket message (one push frame) accepted, before decompression.
        max_decompressed_size: largest payload a gzip'd frame or body may inflate to.
        max_messages_per_frame: most messages one fetch result may carry.
        max_dedup_window: how many recent ``msg_id`` values are remembered to drop duplicates.
        max_pending_bytes: most outgoing bytes that may wait for ``data_to_send()``.
        max_http_body_size: largest HTTP response body the parsers accept.
        max_json_depth: deepest nesting accepted in a JSON answer.

    Raises:
        ValueError: if a limit is not a positive integer.
    """

    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE
    max_messages_per_frame: int = DEFAULT_MAX_MESSAGES_PER_FRAME
    max_dedup_window: int = DEFAULT_MAX_DEDUP_WINDOW
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES
    max_http_body_size: int = DEFAULT_MAX_HTTP_BODY_SIZE
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")


DEFAULT_LIMITS = Limits()
