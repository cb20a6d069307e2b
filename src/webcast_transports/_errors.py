"""The one place where other libraries' exceptions become webcast's (STYLE.md §6, httpcore's
``map_exceptions``), and the transports' own error types.

Every network call of a driver runs inside :func:`map_errors`: httpcore, wsproto, h11, anyio, trio,
ssl and OS errors leave it as :class:`~webcast_proto.ConnectError`,
:class:`~webcast_proto.ReadTimeout`, :class:`~webcast_proto.TransportError`,
:class:`~webcast_proto.RemoteProtocolError` or :class:`~webcast_proto.LocalProtocolError`, the cause
chained. webcast's own errors pass unchanged, and so does cancellation (a ``BaseException``).
Messages name the operation (``GET 127.0.0.1:8080/webcast/im/fetch/``) and never a query string,
header or cookie, so no secret can leak through them.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import anyio
import h11
import httpcore
import socksio.exceptions
import wsproto.utilities

from webcast_proto import (
    ConnectError,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WebcastError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType

__all__ = ["HandlerError", "describe_url", "map_errors", "scrub_secrets", "secrets_scrubbed"]


class HandlerError(WebcastError):
    """An event handler raised; the exception is the ``__cause__``. Given to ``error`` handlers.

    A handler's failure never reaches the connection: the client reports it and goes on.

    Attributes:
        event_name: the name the handler was registered under (``"chat"`` …).
        event: what the handler was called with.
    """

    def __init__(self, message: str, *, event_name: str, event: object) -> None:
        super().__init__(message)
        self.event_name = event_name
        self.event = event


def describe_url(url: str) -> str:
    """``host[:port]/path`` of a URL, for messages and logs: no scheme, no query, no credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


# Checked in order: the first class an exception is an instance of decides. Timeouts before the
# network errors they are not children of; connect-time failures before the generic ones.
_MAPPING: Final[tuple[tuple[type[BaseException], type[WebcastError], str], ...]] = (
    (httpcore.ConnectTimeout, ConnectError, "timed out connecting"),
    (httpcore.PoolTimeout, ReadTimeout, "timed out waiting for a free connection"),
    (httpcore.WriteTimeout, ReadTimeout, "timed out writing"),
    (httpcore.ReadTimeout, ReadTimeout, "timed out waiting for the answer"),
    (httpcore.TimeoutException, ReadTimeout, "timed out"),
    (TimeoutError, ReadTimeout, "timed out"),
    (httpcore.ProxyError, ConnectError, "the proxy failed"),
    (httpcore.ConnectError, ConnectError, "could not connect"),
    (ssl.SSLError, ConnectError, "TLS failed"),
    (ssl.CertificateError, ConnectError, "TLS certificate refused"),
    (httpcore.NetworkError, TransportError, "the connection failed"),
    (httpcore.RemoteProtocolError, RemoteProtocolError, "the server broke HTTP/1.1"),
    (h11.RemoteProtocolError, RemoteProtocolError, "the server broke HTTP/1.1"),
    (socksio.exceptions.SOCKSError, ConnectError, "the proxy broke SOCKS5"),
    (wsproto.utilities.RemoteProtocolError, RemoteProtocolError, "the server broke the WebSocket protocol"),
    (wsproto.utilities.LocalProtocolError, TransportError, "the WebSocket is closed"),
    (httpcore.UnsupportedProtocol, LocalProtocolError, "unsupported URL"),
    (httpcore.LocalProtocolError, LocalProtocolError, "the request is not valid HTTP/1.1"),
    (h11.LocalProtocolError, LocalProtocolError, "the request is not valid HTTP/1.1"),
    (anyio.BrokenResourceError, TransportError, "the connection broke"),
    (anyio.ClosedResourceError, TransportError, "the connection is closed"),
    (anyio.EndOfStream, TransportError, "the server closed the connection"),
    (OSError, TransportError, "the connection failed"),
)


class map_errors:  # lower-case: used as the function it was, ``with map_errors(what):``
    """Turn any library's exception raised in the block into webcast's, naming ``what`` was done.

    A class rather than a generator context manager: the socket's read waits inside one for as long
    as the room is quiet, and a generator's frame and wrapper are ~0.5 KiB of every idle room.

    Args:
        what: the operation, e.g. ``"GET 127.0.0.1:8080/webcast/room/info/"``.

    Raises:
        WebcastError: the mapped error (or webcast's own, unchanged); the original is ``__cause__``.
    """

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not isinstance(exc, Exception) or isinstance(exc, WebcastError):
            return  # none, webcast's own, or a BaseException (cancellation): unchanged
        for source, target, description in _MAPPING:  # the mapping seam (STYLE.md §6, §15)
            if isinstance(exc, source):
                detail = str(exc).strip()
                suffix = f" ({type(exc).__name__}: {detail})" if detail else f" ({type(exc).__name__})"
                raise target(f"{self._what}: {description}{suffix}") from exc


_REDACTED: Final = "<redacted>"


def scrub_secrets(error: BaseException, secrets: Iterable[str | None]) -> None:
    """Replace every secret in the text of ``error`` and of its chained causes, in place.

    The core's parsers quote what TikTok answered (an error text, a ``Handshake-Msg``); they do not
    know the session id, so text echoing it would reach the user. The client knows its secrets and
    passes every error it raises or reports through here.

    Args:
        error: the exception; its ``__cause__`` and ``__context__`` chain is scrubbed too.
        secrets: the session ids and keys in use (``None`` and ``""`` are skipped).
    """
    present = [s for s in secrets if s]
    if not present:
        return
    seen: set[int] = set()
    current: BaseException | None = error
    pending: list[BaseException] = []
    while current is not None:
        if id(current) not in seen:
            seen.add(id(current))
            current.args = tuple(_scrub_text(a, present) if isinstance(a, str) else a for a in current.args)
            pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        current = pending.pop() if pending else None


def _scrub_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text


@contextlib.contextmanager
def secrets_scrubbed(*secrets: str | None) -> Iterator[None]:
    """Scrub ``secrets`` from any exception that leaves the block (see :func:`scrub_secrets`)."""
    try:
        yield
    except BaseException as exc:
        scrub_secrets(exc, secrets)
        raise
