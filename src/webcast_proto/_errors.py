"""Every error the library raises, under one root: :class:`WebcastError`.

Families (STYLE.md §6):

* :class:`ProtocolError` (abstract): :class:`LocalProtocolError` when our caller broke the protocol
  (an illegal call for the current state, a bad argument), :class:`RemoteProtocolError` when the peer
  sent something invalid (garbage bytes, a frame past a size limit, a gzip bomb).
* :class:`HTTPError` and its children: what TikTok's HTTP API answered, turned into facts the caller
  can act on (:class:`UserOffline`, :class:`RateLimited` with ``retry_after`` …).
* :class:`TransportError`: the network itself (raised by the transports, never by the core).

Each error says whether retrying can help (``retryable``) and, when known, after how long
(``retry_after``, seconds). Messages say what was expected and what arrived; they never contain a
session id, a sign-server key or any other secret.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AgeRestricted",
    "CaptchaRequired",
    "ConnectError",
    "HTTPError",
    "HTTPStatusError",
    "InvalidSession",
    "LocalProtocolError",
    "ProtocolError",
    "RateLimited",
    "ReadTimeout",
    "RemoteProtocolError",
    "SignatureRequired",
    "SignerError",
    "TransportError",
    "UnexpectedHTML",
    "UnexpectedResponse",
    "UserNotFound",
    "UserOffline",
    "WebcastBlocked",
    "WebcastError",
]


class WebcastError(Exception):
    """The base of every error raised by webcast.

    Attributes:
        retryable: whether doing the same thing again later may succeed.
        retry_after: seconds to wait before retrying, when the peer said so; else ``None``.
    """

    retryable: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        """The human-readable message (never contains a secret)."""
        return str(self.args[0]) if self.args else ""


class ProtocolError(WebcastError):
    """A violation of the protocol, by us or by the peer. Abstract: raise a child."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        if type(self) is ProtocolError:
            raise TypeError("ProtocolError is abstract; raise LocalProtocolError or RemoteProtocolError")
        super().__init__(message, retry_after=retry_after)


class LocalProtocolError(ProtocolError):
    """The caller used the API in a way the protocol does not allow (e.g. a call in the wrong state).

    Retrying the same call cannot help: the calling code has a bug.
    """


class RemoteProtocolError(ProtocolError):
    """The peer sent something invalid: undecodable bytes, a frame past a limit, a gzip bomb.

    On a client connection this is recoverable by reconnecting (``retryable`` is true). On a
    server connection, ``close_code`` is the WebSocket close code to send to the misbehaving client.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, close_code: int = 1002) -> None:
        super().__init__(message, retry_after=retry_after)
        self.close_code = close_code


class HTTPError(WebcastError):
    """An HTTP answer that is not what the request needed.

    Attributes:
        status_code: the HTTP status, when the error comes from a response (else ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status_code = status_code


class UserNotFound(HTTPError):
    """No such user, or a user who cannot go live (API ``statusCode`` 19881007, SPEC.md §9)."""


class UserOffline(HTTPError):
    """The user exists but is not live (room status 4, SPEC.md §9)."""

    retryable = True


class AgeRestricted(HTTPError):
    """The room is age-restricted: a logged-in session is needed to read it (SPEC.md §2.3)."""


class CaptchaRequired(HTTPError):
    """TikTok answered with a captcha or a block page instead of the expected data."""

    retryable = True


class RateLimited(HTTPError):
    """HTTP 429 from TikTok or the sign server; ``retry_after`` tells how long to wait, if known."""

    retryable = True


class SignatureRequired(HTTPError):
    """The request needs a signature (or a premium sign-server plan) that was not provided."""


class SignerError(HTTPError):
    """The sign server failed or refused (non-200, empty body, missing cookies or tokens)."""

    retryable = True


class InvalidSession(HTTPError):
    """The session id was refused (``status_code`` 20003: expired or invalid, SPEC.md §10)."""


class WebcastBlocked(HTTPError):
    """The push server refused the WebSocket handshake (200/400 with ``Handshake-Msg``, SPEC.md §9)."""


class UnexpectedResponse(HTTPError):
    """The response has the wrong shape: HTML where JSON was expected, malformed JSON, missing keys."""

    retryable = True


class HTTPStatusError(UnexpectedResponse):
    """An error status (3xx, 4xx or 5xx other than 429) where a 2xx answer was expected.

    Retryable for 5xx (the server's trouble), not for the others (the request itself is refused).
    """

    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(message, status_code=status_code, retry_after=retry_after)
        self.retryable = status_code >= 500


class UnexpectedHTML(CaptchaRequired, UnexpectedResponse):
    """An HTML page where JSON or protobuf was expected.

    Both a wrong shape (:class:`UnexpectedResponse`) and, per SPEC.md §9, the usual sign of a block or
    captcha page (:class:`CaptchaRequired`), so either ``except`` catches it.
    """


class APIError(HTTPError):
    """TikTok's JSON answer carried a non-zero status code of its own (``statusCode``/``status_code``).

    Codes with a known meaning raise their own class instead (19881007 :class:`UserNotFound`, 20003
    :class:`InvalidSession`); this is the rest ("API Error {code} ({message})", SPEC.md §2.2).

    Attributes:
        api_code: the non-zero code from the body.
    """

    def __init__(
        self,
        message: str,
        *,
        api_code: int,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, retry_after=retry_after)
        self.api_code = api_code


class TransportError(WebcastError):
    """The network failed. Raised by the transports only; the core never does I/O."""

    retryable = True


class ConnectError(TransportError):
    """The connection could not be established (refused, DNS, TLS, proxy)."""


class ReadTimeout(TransportError):
    """The peer did not answer in time."""
