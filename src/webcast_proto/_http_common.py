"""What every TikTok HTTP exchange shares (SPEC.md §2, §3, §9): request and response, and the checks.

:class:`Request` and :class:`Response` redact secret headers in their reprs. Every parser runs the
same envelope checks, in the order :mod:`webcast_proto.http` documents: body size
(:func:`check_size`), status (:func:`raise_for_status`, with :func:`parse_retry_after`), then for JSON
an empty body, an HTML page, UTF-8 and nesting depth before parsing (:func:`load_json_object`). Small
readers pick typed values out of parsed JSON (:func:`json_get`, :func:`as_int`, :func:`as_str`), and
the builders share the cookie, header and URL helpers. :class:`RoomStatus` lives here because both
room lookup and room info read it.

The concern modules (``_room_lookup``, ``_webcast_api``, ``_websocket``) import from here, never from
one another; :mod:`webcast_proto.signing` uses the same checks for the sign server's answers. Users
import the public names from :mod:`webcast_proto.http`.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlencode

from webcast_proto._checks import CONTROL_CHARS, merge_headers
from webcast_proto._errors import (
    CaptchaRequired,
    HTTPError,
    HTTPStatusError,
    RateLimited,
    RemoteProtocolError,
    UnexpectedHTML,
    UnexpectedResponse,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.config import ClientParams, Limits
    from webcast_proto.events import JSONValue

__all__ = [
    "BAD_COOKIE_VALUE",
    "SESSION_COOKIE_NAMES",
    "Request",
    "Response",
    "RoomStatus",
    "as_int",
    "as_str",
    "build_url",
    "check_room_id",
    "check_size",
    "content_type_of",
    "cookie_header",
    "error_detail",
    "http_headers",
    "json_get",
    "load_json_object",
    "normalize_unique_id",
    "parse_json",
    "parse_retry_after",
    "quote_text",
    "raise_for_status",
    "unique_id_path",
    "who",
]


# Header names whose values are secrets: never shown in a repr, a log line or an error.
_SECRET_HEADERS = frozenset({"cookie", "x-api-key", "x-cookie-header", "x-jwt-key", "x-oauth-token"})
# Response headers that may carry session cookies (TikTok's own, or the sign server's, SPEC.md §2.6).
_SECRET_RESPONSE_HEADERS = _SECRET_HEADERS | {"set-cookie", "x-set-tt-cookie"}

# Cookies holding the session id (SPEC.md §10; [C2] adds `sid_guard`).
SESSION_COOKIE_NAMES: Final = ("sessionid", "sessionid_ss", "sid_tt")


def _redacted(headers: tuple[tuple[str, str], ...], secret: frozenset[str]) -> tuple[tuple[str, str], ...]:
    return tuple((k, "<redacted>" if k.lower() in secret else v) for k, v in headers)


def _find_header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request for the transport to perform.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        url: the absolute URL, query included.
        headers: name/value pairs in order (names as sent).
        body: the request body (``b""`` for none).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (case-insensitive), or ``None``."""
        return _find_header(self.headers, name)

    def __repr__(self) -> str:
        shown = _redacted(self.headers, _SECRET_HEADERS)
        return (
            f"Request(method={self.method!r}, url={self.url!r}, headers={shown!r}, "
            f"body=<{len(self.body)} bytes>)"
        )


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response, as the transport received it, for the parsers of :mod:`webcast_proto.http`.

    Attributes:
        status_code: the HTTP status.
        headers: name/value pairs in order (repeated names allowed).
        body: the whole body, already un-gzipped by the transport's HTTP layer.
    """

    status_code: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (case-insensitive), or ``None``."""
        return _find_header(self.headers, name)

    def __repr__(self) -> str:
        shown = _redacted(self.headers, _SECRET_RESPONSE_HEADERS)
        return f"Response(status_code={self.status_code!r}, headers={shown!r}, body=<{len(self.body)} bytes>)"


class RoomStatus(enum.IntEnum):
    """``status`` of a room (SPEC.md §2.3: 2 live, 4 ended; 3 paused per third parties)."""

    LIVE = 2
    PAUSED = 3
    ENDED = 4


# --------------------------------------------------------------------------------------------
# Envelope checks: size, status, retry headers, JSON
# --------------------------------------------------------------------------------------------

# Retry hints of a 429, in order of trust (SPEC.md §2.6): the standard header, then the reset
# headers [C2] and [TL] 6.0 read (seconds until the window resets).
# `RateLimit-Remaining` is deliberately not read: it counts requests left, not seconds, so [TL]
# 7.0.1's use of it as retry-after would turn "0 left" into "retry now".
_RETRY_HEADERS: Final = ("retry-after", "x-ratelimit-reset", "ratelimit-reset")
# A "reset" above this is an epoch timestamp, not a delay; we have no clock to convert it.
_MAX_RETRY_DELAY = 10**8
# Server-supplied text quoted in errors is cut here, and stripped of control characters.
_MAX_QUOTED = 200


def parse_retry_after(response: Response) -> float | None:
    """How long a rate-limited response asks us to wait (SPEC.md §2.6).

    Reads ``Retry-After``, then ``X-RateLimit-Reset``, then ``RateLimit-Reset`` as delays in seconds.
    HTTP dates and epoch timestamps are ignored (the core has no clock to convert them), as is
    ``RateLimit-Remaining`` (a request count, despite [TL] 7.0.1).

    Args:
        response: any response (usually a 429).

    Returns:
        Seconds (>= 0) from the first header holding a usable delay, or ``None``.
    """
    for name in _RETRY_HEADERS:
        value = response.header(name)
        if value is None:
            continue
        try:
            seconds = float(value.strip())
        except ValueError:
            continue
        if math.isfinite(seconds) and 0 <= seconds <= _MAX_RETRY_DELAY:
            return seconds
    return None


def quote_text(text: str) -> str:
    """Server text fit to quote in an error: control characters blanked, cut at 200 characters."""
    text = CONTROL_CHARS.sub(" ", text).strip()
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """Deepest nesting of arrays/objects in ``text``, found without parsing (so without recursion)."""
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub('""', text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def error_detail(response: Response) -> str:
    """``": <message>"`` from a small JSON error body (``message``/``error``/``limit_label``), or ``""``."""
    body = response.body
    if not body or len(body) > 4096 or not body.lstrip().startswith(b"{"):
        return ""
    try:
        text = body.decode("utf-8")
        value = json.loads(text) if _json_depth(text) <= 8 else None
    except ValueError:
        return ""
    if not isinstance(value, dict):
        return ""
    parts = [str(value[k]) for k in ("message", "error", "limit_label") if isinstance(value.get(k), str)]
    return f": {quote_text(' / '.join(parts))}" if parts else ""


def check_size(response: Response, limits: Limits, what: str) -> None:
    """:class:`RemoteProtocolError` when the body exceeds ``limits.max_http_body_size``."""
    size = len(response.body)
    if size > limits.max_http_body_size:
        raise RemoteProtocolError(
            f"{what}: body of {size} bytes exceeds Limits.max_http_body_size ({limits.max_http_body_size})"
        )


def raise_for_status(response: Response, what: str) -> None:
    """:class:`RateLimited` for HTTP 429, :class:`HTTPStatusError` for any other non-2xx status."""
    code = response.status_code
    if 200 <= code < 300:
        return
    detail = error_detail(response)
    retry_after = parse_retry_after(response)
    if code == 429:
        raise RateLimited(
            f"{what}: rate limited (HTTP 429){detail}", status_code=code, retry_after=retry_after
        )
    raise HTTPStatusError(
        f"{what}: expected HTTP 200, got {code}{detail}", status_code=code, retry_after=retry_after
    )


def content_type_of(response: Response) -> str:
    """The ``Content-Type`` header, lower-cased (``""`` when absent)."""
    return (response.header("content-type") or "").lower()


def _looks_like_html(response: Response) -> bool:
    return "html" in content_type_of(response) or response.body.lstrip()[:1] == b"<"


def parse_json(
    text: str, *, limits: Limits, what: str, error: type[HTTPError], status_code: int | None
) -> JSONValue:
    """``text`` parsed, its depth checked first; malformed JSON raises ``error``."""
    depth = _json_depth(text)
    if depth > limits.max_json_depth:
        raise RemoteProtocolError(
            f"{what}: JSON nested {depth} deep exceeds Limits.max_json_depth ({limits.max_json_depth})"
        )
    try:
        value: JSONValue = json.loads(text)
    except ValueError as exc:
        raise error(f"{what}: malformed JSON ({exc})", status_code=status_code) from exc
    return value


def load_json_object(response: Response, *, limits: Limits, what: str) -> dict[str, JSONValue]:
    """The JSON object of a successful answer, after every check :mod:`webcast_proto.http` lists."""
    check_size(response, limits, what)
    raise_for_status(response, what)
    status = response.status_code
    if not response.body.strip():
        raise CaptchaRequired(
            f"{what}: empty body where JSON was expected (blocked by TikTok?)", status_code=status
        )
    if _looks_like_html(response):
        raise UnexpectedHTML(
            f"{what}: expected JSON, got an HTML page (blocked or captcha page?)", status_code=status
        )
    try:
        text = response.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnexpectedResponse(f"{what}: body is not UTF-8 ({exc.reason})", status_code=status) from exc
    value = parse_json(text, limits=limits, what=what, error=UnexpectedResponse, status_code=status)
    if not isinstance(value, dict):
        raise UnexpectedResponse(
            f"{what}: expected a JSON object, got {type(value).__name__}", status_code=status
        )
    return value


def json_get(value: JSONValue, *path: str) -> JSONValue:
    """``value[path[0]][path[1]]…``, or ``None`` where a step is not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


_DECIMAL = re.compile(r"-?[0-9]{1,20}")


def as_int(value: JSONValue) -> int | None:
    """An int from a JSON int or decimal string (TikTok sends 64-bit ids both ways)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    return None


def as_str(value: JSONValue) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------
# URLs, cookies and headers
# --------------------------------------------------------------------------------------------

# A cookie name is an RFC 6265 token; a value must not break the header apart.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
BAD_COOKIE_VALUE = re.compile(r'[\x00-\x1f\x7f;,"\\ ]')


def cookie_header(cookies: Mapping[str, str]) -> str:
    """A ``Cookie`` header value: ``name=value`` pairs joined by ``"; "`` (RFC 6265).

    Args:
        cookies: name → value, in order.

    Returns:
        The header value (``""`` for no cookies).

    Raises:
        ValueError: if a name is not a token or a value contains ``;``, ``,``, a quote, a space or a
            control character. The message names the cookie, never its value.
    """
    for name, value in cookies.items():
        if not _COOKIE_NAME.fullmatch(name):
            raise ValueError(f"invalid cookie name {name!r}")
        if BAD_COOKIE_VALUE.search(value):
            raise ValueError(f"invalid characters in the value of cookie {name!r}")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def http_headers(
    client_params: ClientParams,
    cookies: Mapping[str, str] | None,
    extra_headers: Sequence[tuple[str, str]],
    *,
    session_id: str | None = None,
) -> tuple[tuple[str, str], ...]:
    """The client's default headers plus a ``Cookie`` (session cookies set when given), then extras."""
    jar = client_params.default_cookies()
    jar.update(cookies or {})
    if session_id is not None:
        jar.update(dict.fromkeys(SESSION_COOKIE_NAMES, session_id))
    headers = client_params.http_headers()
    if jar:
        headers = (*headers, ("Cookie", cookie_header(jar)))
    return merge_headers(headers, tuple(extra_headers))


def build_url(base: str, path: str, items: Sequence[tuple[str, str]]) -> str:
    """``{base}{path}`` with ``items`` as its form-encoded query."""
    # Form encoding, as [C2]'s URLSearchParams (SPEC.md §3.1); `quote_via=quote` would differ only
    # in spaces (`%20` for `+`), and TikTok accepts both.
    return f"{base}{path}?{urlencode(list(items))}" if items else f"{base}{path}"


_UNIQUE_ID_PREFIX = re.compile(r"^(?:https?://)?(?:(?:www|m)\.)?tiktok\.com/", re.IGNORECASE)


def normalize_unique_id(value: str) -> str:
    """A username as typed (``@user``, ``https://www.tiktok.com/@user/live``) → ``user`` (SPEC.md §1).

    Strips the TikTok site prefix, a query or fragment, the ``/live`` suffix, the first ``@`` and
    surrounding whitespace.

    Args:
        value: what the user typed.

    Returns:
        The bare username.

    Raises:
        ValueError: if nothing is left, or what is left contains ``/``, ``?``, ``#`` or whitespace.
    """
    text = _UNIQUE_ID_PREFIX.sub("", value.strip())
    text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    text = text.removesuffix("/live").strip()
    text = text.removeprefix("@").strip()
    if not text or re.search(r"[\s/?#@]", text):
        raise ValueError(f"not a TikTok username: {value!r}")
    return text


def who(unique_id: str) -> str:
    """``@user`` for messages, or ``the user`` when the caller did not say who."""
    return f"@{unique_id}" if unique_id else "the user"


def unique_id_path(unique_id: str) -> str:
    """The normalised username, escaped for a URL path."""
    return quote(normalize_unique_id(unique_id), safe="._-")


def check_room_id(room_id: object) -> str:
    """A room id as a query value; ``ValueError`` unless a positive int."""
    if not isinstance(room_id, int) or isinstance(room_id, bool) or room_id <= 0:
        raise ValueError(f"room_id must be a positive int, got {room_id!r}")
    return str(room_id)
