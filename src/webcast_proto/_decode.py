"""Stateless decoding: bytes or a fetch result in, events out, with no connection around them.

For tools that hold a recorded frame or an im/fetch body (``webcast decode``, replay, tests): each
helper runs the codec, then the converters. Peer data that is invalid as a whole (a corrupt frame, a
gzip bomb, an oversized body) raises :class:`~webcast_proto.RemoteProtocolError`; one bad message
inside a good frame becomes a :class:`~webcast_proto.events.ProtocolWarning` in its place while the
rest is delivered. No dedup, acks or state: that is the connection's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webcast_proto import codec
from webcast_proto._dedup import converter_within
from webcast_proto._errors import RemoteProtocolError
from webcast_proto.config import DEFAULT_LIMITS
from webcast_proto.convert import default_registry

if TYPE_CHECKING:
    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_proto.config import Limits
    from webcast_proto.convert import ConverterRegistry
    from webcast_proto.events import Event

__all__ = ["decode_fetch_response", "decode_push_frame", "events_from_fetch_result"]


def events_from_fetch_result(
    result: pb.ProtoMessageFetchResult,
    *,
    registry: ConverterRegistry,
    limits: Limits = DEFAULT_LIMITS,
    body_size: int | None = None,
) -> list[Event]:
    """Convert every message of a fetch result, in order.

    Args:
        result: a parsed fetch result (from the codec).
        registry: the converters to use.
        limits: ``max_message_size`` applies: a larger message is not parsed.
        body_size: the fetch result's size, if known (``codec.fetch_result_with_size``): within
            ``max_message_size``, no message is measured against it.

    Returns:
        One event per message: its converter's event, ``UnknownMessage`` for a method without
        converter, or ``ProtocolWarning`` for a payload that does not parse or is too large.
    """
    convert = converter_within(registry, limits.max_message_size, body_size)
    return [convert(message) for message in result.messages]


def decode_push_frame(
    data: bytes, *, registry: ConverterRegistry | None = None, limits: Limits | None = None
) -> list[Event]:
    """The events of one WebSocket message (one push frame, SPEC.md §4).

    Args:
        data: the whole binary WebSocket message.
        registry: the converters; a fresh :func:`~webcast_proto.convert.default_registry` if omitted.
        limits: size limits; :data:`~webcast_proto.config.DEFAULT_LIMITS` if omitted.

    Returns:
        The events of a ``msg`` frame; ``[]`` for every other payload type (``hb``, ``ack``,
        ``im_enter_room_resp`` …), which carry no events (SPEC.md §4.1).

    Raises:
        RemoteProtocolError: the frame or its fetch result is invalid or exceeds a limit.
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    frame = codec.parse_push_frame(data, limits=limits)
    if frame.payload_type != codec.PAYLOAD_TYPE_MSG:
        return []
    result, size = codec.fetch_result_with_size(frame, limits=limits)
    return events_from_fetch_result(
        result, registry=default_registry() if registry is None else registry, limits=limits, body_size=size
    )


def decode_fetch_response(
    body: bytes, *, registry: ConverterRegistry | None = None, limits: Limits | None = None
) -> list[Event]:
    """The events of an im/fetch response body (a fetch result, raw or gzip'd, SPEC.md §2.4).

    Args:
        body: the HTTP response body.
        registry: the converters; a fresh :func:`~webcast_proto.convert.default_registry` if omitted.
        limits: size limits; :data:`~webcast_proto.config.DEFAULT_LIMITS` if omitted.

    Returns:
        One event per message of the result.

    Raises:
        RemoteProtocolError: the body is longer than ``limits.max_http_body_size``, is not a valid
            fetch result, or exceeds another limit.
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    if len(body) > limits.max_http_body_size:
        raise RemoteProtocolError(
            f"im/fetch body of {len(body)} bytes exceeds max_http_body_size={limits.max_http_body_size}"
        )
    result = codec.parse_fetch_result(body, limits=limits)
    return events_from_fetch_result(
        result, registry=default_registry() if registry is None else registry, limits=limits
    )
