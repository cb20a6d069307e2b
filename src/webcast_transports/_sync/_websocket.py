# Generated from src/webcast_transports/_async/_websocket.py by scripts/unasync.py: do not edit.
"""The push WebSocket: wsproto framing over the network stream of an httpcore HTTP/1.1 upgrade.

wsproto streams fragments and sets no size limit (STYLE.md §7), so :meth:`SyncWebSocket.receive`
joins a message's fragments and refuses one past ``max_message_size`` (``Limits.max_frame_size``)
with a ``RemoteProtocolError`` and a 1009 close, before holding more. Pings are answered as RFC 6455
asks, though TikTok sends none (SPEC.md §2.5); text messages are passed on as their UTF-8 bytes for
the core to judge (SPEC.md §4: every push frame is binary).

The socket does its own waiting, the interrupt's way (``disconnect()`` stops it): in the async
flavour each read or write is :meth:`SyncInterrupt.read` or :meth:`SyncInterrupt.write`, one
cancel scope (:meth:`SyncInterrupt.guard`) that also carries the read's deadline or the write's
timeout, on the anyio stream under httpcore's; on asyncio the socket's transport is read through a
protocol of our own (``SyncBackend.streaming_io``), whose reads wait on a future without a scope
and whose writes wait (in a scope) only when the kernel does not take them at once; reads in the
blocking flavour wait at most ``SyncBackend.wait_slice`` at a time to look at the interrupt's
flag. A read takes all the bytes available (up to 64 KiB), and wsproto parses every frame in them
before the next read.

The frames TikTok sends are whole binary messages, one frame each (SPEC.md §4): while every frame so
far has been one, the socket parses them itself (:meth:`SyncWebSocket._next_simple_frame`: FIN and
the binary opcode, no reserved bit, no mask, the shortest length encoding, at most
``max_message_size``), taking the payload out of the bytes read in one copy; wsproto's parser
(a generator, two named tuples and three copies per frame) cost ~20 µs of a frame's latency. The
first frame that is anything else (a ping, a close, a fragment, text, a malformed header, one too
big) and everything after it go to wsproto, which judges them as before.

The socket drives wsproto's ``FrameProtocol`` itself, with the few state rules of wsproto's
``Connection`` (open, local or remote closing, closed) written out here: ``Connection`` adds an event
deque (~0.8 KiB, for the one close it makes up when the TCP stream ends) to every idle room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from wsproto.connection import ConnectionState
from wsproto.frame_protocol import CloseReason, FrameProtocol, Opcode, ParseFailed
from wsproto.utilities import LocalProtocolError

from webcast_proto import ReadTimeout, RemoteProtocolError, WebcastError
from webcast_transports._backend import Interrupted, SyncBackend, clock
from webcast_transports._errors import map_errors

if TYPE_CHECKING:
    import httpcore

    from webcast_transports._backend import SyncInterrupt

__all__ = ["CLOSE_GOING_AWAY", "CLOSE_NORMAL", "CLOSE_TOO_BIG", "SyncWebSocket", "WebSocketClosed"]

# RFC 6455 §7.4.1.
CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_TOO_BIG: Final = 1009
_READ_SIZE: Final = 64 * 1024
# The first byte of a whole binary message in one frame: FIN, no reserved bit, opcode 2.
_FIN_BINARY: Final = 0x82


@dataclass(frozen=True, slots=True)
class WebSocketClosed:
    """The server closed the socket (``code`` 1006 when the TCP connection just ended).

    Attributes:
        code: the close code.
        reason: the close reason.
    """

    code: int
    reason: str = ""


class SyncWebSocket:
    """A client WebSocket on an upgraded stream.

    Args:
        stream: the network stream the 101 answer handed over; the socket owns it, and closes it.
        interrupt: stops reads and writes (:meth:`SyncInterrupt.guard`).
        max_message_size: the largest message accepted, in bytes.
        what: the socket's name in messages (``host:port/path``).
    """

    def __init__(
        self,
        stream: httpcore.NetworkStream,
        *,
        interrupt: SyncInterrupt,
        max_message_size: int,
        what: str,
    ) -> None:
        self._stream = SyncBackend.streaming_io(stream)
        self._interrupt = interrupt
        self._max = max_message_size
        self._what = f"WebSocket {what}"  # as map_errors names it: made once, not on every read
        self._proto = FrameProtocol(client=True, extensions=[])
        self._state = ConnectionState.OPEN
        self._lost = False  # the TCP stream ended without a close frame: a 1006 close (RFC 6455 §7.1.5)
        self._buffer = bytearray()
        # While ``_simple``: the bytes read and not parsed yet, from ``_offset`` on (the socket's own
        # parser, module docstring); wsproto has been fed nothing. Once not: wsproto is fed everything.
        self._simple = True
        self._pending: bytes | bytearray = b""
        self._offset = 0
        self._closed: WebSocketClosed | None = None
        self._released = False

    @property
    def closed(self) -> WebSocketClosed | None:
        """How the server closed the socket, once it has."""
        return self._closed

    def send(self, messages: list[bytes], *, timeout: float | None) -> None:
        """Send each item as one binary message, even if a stop was asked for (an ack must go out;
        the next read raises :class:`Interrupted`), unless the stop comes during the write.

        Raises:
            TransportError, ReadTimeout: the write failed or took longer than ``timeout``.
            Interrupted: ``disconnect()`` was asked for during the write.
        """
        if not messages or self._state is not ConnectionState.OPEN:
            return
        data: bytes | bytearray
        if len(messages) == 1:
            data = self._proto.send_data(messages[0], True)
        else:
            data = b"".join(self._proto.send_data(message, True) for message in messages)
        self._write(data, timeout)

    def receive(self, timeout: float | None) -> bytes | WebSocketClosed | None:
        """The next whole message, waiting at most ``timeout`` seconds.

        Returns:
            The message's bytes; :class:`WebSocketClosed` once the server closed (the close is
            answered); ``None`` when ``timeout`` passed first.

        Raises:
            RemoteProtocolError: a message past ``max_message_size`` (the socket is being closed).
            TransportError: the connection failed.
            Interrupted: ``disconnect()`` was asked for (blocking flavour, between slices).
        """
        deadline = None if timeout is None else clock() + timeout
        stream = self._stream
        while True:
            # A whole binary frame read already is taken here, without the coroutines around wsproto.
            message: bytes | WebSocketClosed | None = None
            if self._simple and self._closed is None:
                message = self._next_simple_frame()
            if message is None:
                message = self._next_message()
            if message is not None:
                return message
            wait = None if deadline is None else deadline - clock()
            if wait is not None and wait <= 0:
                return None
            if SyncBackend.wait_slice is not None:
                wait = SyncBackend.wait_slice if wait is None else min(wait, SyncBackend.wait_slice)
            try:
                # The interrupt bounds the read by ``wait`` and by disconnect() (async: one scope, or
                # none on asyncio's protocol stream); the blocking flavour's socket applies ``wait``.
                with map_errors(self._what):
                    data = self._interrupt.read(stream, _READ_SIZE, wait)
            except ReadTimeout:  # only a slice or the timeout ran out: not an error
                self._interrupt.check()
                continue
            if data is None:  # the async flavour's deadline: the loop returns None
                continue
            self._receive_data(data)

    def _receive_data(self, data: bytes) -> None:
        """Feed what was read (``b""``: the end of the TCP stream), as ``Connection.receive_data``."""
        if not data:
            self._lost = True
            self._state = ConnectionState.CLOSED
        elif self._state is ConnectionState.OPEN or self._state is ConnectionState.LOCAL_CLOSING:
            if not self._simple:
                self._proto.receive_bytes(data)
            elif self._offset == len(self._pending):  # all parsed: the new bytes as they came
                self._pending, self._offset = data, 0
            else:  # a frame's start is waiting for the rest of it: appended to, copied only once
                pending = self._pending
                if self._offset or type(pending) is not bytearray:
                    pending = self._pending = bytearray(memoryview(pending)[self._offset :])
                    self._offset = 0
                pending += data
        elif self._state is ConnectionState.CLOSED:
            raise LocalProtocolError("Connection already closed.")

    def _remote_close(self) -> None:
        """A close frame came: the closing handshake's state, as ``Connection`` keeps it."""
        if self._state is ConnectionState.LOCAL_CLOSING:
            self._state = ConnectionState.CLOSED
        else:
            self._state = ConnectionState.REMOTE_CLOSING

    def _next_message(self) -> bytes | WebSocketClosed | None:
        """The next whole message or close among the frames wsproto has parsed, if any."""
        if self._closed is not None:
            return self._closed
        if self._lost:
            self._closed = WebSocketClosed(int(CloseReason.ABNORMAL_CLOSURE))
            return self._closed
        try:
            return self._next_frames()
        except ParseFailed as exc:  # the server broke the framing: a close with its code, unanswered
            self._closed = WebSocketClosed(int(exc.code), str(exc))
            return self._closed

    def _next_simple_frame(self) -> bytes | None:
        """The payload of the next frame read, if it is a whole binary message (module docstring)
        and all there; ``None`` when it is not all there yet, or is not one: then the socket stops
        parsing (``_simple`` false) and hands wsproto the bytes it has."""
        pending, offset = self._pending, self._offset
        available = len(pending) - offset
        if available < 2:
            if available and pending[offset] != _FIN_BINARY:
                self._hand_to_wsproto()
            return None
        first, length = pending[offset], pending[offset + 1]
        if first != _FIN_BINARY or length & 0x80:  # not FIN + binary, or masked
            self._hand_to_wsproto()
            return None
        start = offset + 2
        if length == 126:
            start += 2
            if len(pending) < start:
                return None
            length = int.from_bytes(pending[offset + 2 : start], "big")
            if length < 126:  # a longer encoding than needed: wsproto's to refuse
                self._hand_to_wsproto()
                return None
        elif length == 127:
            start += 8
            if len(pending) < start:
                return None
            length = int.from_bytes(pending[offset + 2 : start], "big")
            if length < 0x10000 or length >> 63:
                self._hand_to_wsproto()
                return None
        if length > self._max:  # wsproto's partial frames let the size check refuse it early
            self._hand_to_wsproto()
            return None
        end = start + length
        if len(pending) < end:
            return None
        message = bytes(pending[start:end])
        if end == len(pending):
            self._pending, self._offset = b"", 0
        else:
            self._offset = end
        return message

    def _hand_to_wsproto(self) -> None:
        """Stop parsing frames here: wsproto gets the bytes not parsed yet, and all that come (once
        it has them, nothing is pending here: a second call does nothing)."""
        self._simple = False
        rest = self._pending[self._offset :]
        self._pending, self._offset = b"", 0
        if rest:
            self._proto.receive_bytes(bytes(rest))

    def _next_frames(self) -> bytes | WebSocketClosed | None:
        # While the socket parses frames itself (``receive`` tried first), wsproto holds nothing.
        for frame in self._proto.received_frames():
            opcode = frame.opcode
            if opcode is Opcode.BINARY or opcode is Opcode.TEXT:
                payload = cast("bytes | bytearray | str", frame.payload)
                chunk = payload.encode() if isinstance(payload, str) else bytes(payload)
                if len(self._buffer) + len(chunk) > self._max:
                    size = len(self._buffer) + len(chunk)
                    self._buffer.clear()
                    self._close_quietly(CLOSE_TOO_BIG, "message too big", timeout=None, guarded=True)
                    raise RemoteProtocolError(
                        f"{self._what}: a message of over {size} bytes exceeds "
                        f"Limits.max_frame_size ({self._max})"
                    )
                self._buffer += chunk
                if frame.message_finished:
                    message = bytes(self._buffer)
                    self._buffer.clear()
                    return message
            elif opcode is Opcode.PING:
                if self._state is ConnectionState.OPEN:
                    self._write(self._proto.pong(cast("bytes", frame.payload)), None)
            elif opcode is Opcode.CLOSE:
                code, reason = cast("tuple[int, str]", frame.payload)
                self._remote_close()
                if self._state is ConnectionState.REMOTE_CLOSING:  # answered, as RFC 6455 asks
                    self._state = ConnectionState.CLOSED
                    self._write(self._proto.close(code, reason), None)
                self._closed = WebSocketClosed(int(code), reason or "")
                return self._closed
        return None

    def _current_state(self) -> ConnectionState:
        return self._state  # read afresh: frames change it

    def _write(self, data: bytes | bytearray, timeout: float | None, *, guarded: bool = True) -> None:
        """Write ``data`` within ``timeout`` seconds; ``disconnect()`` stops it unless not ``guarded``
        (closing, which runs in its own bounded scope and must not be stopped).

        Raises:
            TransportError, ReadTimeout: the write failed or took longer than ``timeout``.
            Interrupted: ``disconnect()`` was asked for during the write.
        """
        data = bytes(data)
        if not guarded:
            with map_errors(self._what):
                self._stream.write(data, timeout)
            return
        with map_errors(self._what):
            written = self._interrupt.write(self._stream, data, timeout)
        if not written:
            raise ReadTimeout(f"{self._what}: timed out writing (over {timeout} s)")

    def _close_quietly(self, code: int, reason: str, *, timeout: float | None, guarded: bool) -> None:
        if self._state is ConnectionState.OPEN:
            self._state = ConnectionState.LOCAL_CLOSING
            try:
                self._write(self._proto.close(code, reason), timeout, guarded=guarded)
            except WebcastError:  # the socket is being given up anyway; its failure changes nothing
                return

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", *, timeout: float = 1.0) -> None:
        """Close the socket: a close frame, the server's answer awaited up to ``timeout``, then the
        TCP connection. Never raises for network failures; idempotent."""
        if self._released:
            return
        try:
            if self._state is ConnectionState.OPEN:
                self._hand_to_wsproto()  # the close's answer is looked for among wsproto's frames
                self._close_quietly(code, reason, timeout=timeout, guarded=False)
                deadline = clock() + timeout
                while self._current_state() is ConnectionState.LOCAL_CLOSING and clock() < deadline:
                    wait = max(deadline - clock(), 0.0)
                    try:
                        # The guard bounds the read by ``wait`` (the async stream may ignore its
                        # timeout); a stop already asked for does not cut the close short.
                        with self._interrupt.guard(wait, check=False) as guard, map_errors(self._what):
                            data = self._stream.read(_READ_SIZE, wait)
                    except (WebcastError, Interrupted):  # a lost or slow server, or a second stop:
                        break  # the close is done from our side
                    if guard.timed_out:
                        break
                    self._receive_data(data)
                    try:
                        for frame in self._proto.received_frames():
                            if frame.opcode is Opcode.CLOSE:
                                self._remote_close()
                    except ParseFailed:  # garbage instead of the answer: waited out, as for silence
                        pass
        finally:
            self._released = True
            self._stream.close()
