"""Request builders and response parsers for TikTok's HTTP API (SPEC.md §2, §3, §10). All pure.

The core never performs a request: it describes one as a :class:`Request` and the transport sends it
(after the configured signer, if any, has signed it). Responses come back as a :class:`Response`
(status, headers, body) to the parsers here, which return small frozen results or raise typed errors:

* the body is checked against ``Limits.max_http_body_size`` first (:class:`RemoteProtocolError`);
* HTTP 429 is :class:`RateLimited` with ``retry_after`` from the headers (:func:`parse_retry_after`),
  any other non-2xx status :class:`HTTPStatusError`;
* an empty body is :class:`CaptchaRequired`, an HTML page where JSON or protobuf was expected
  :class:`UnexpectedHTML`, malformed JSON :class:`UnexpectedResponse`, JSON nested deeper than
  ``Limits.max_json_depth`` :class:`RemoteProtocolError` (checked before parsing);
* TikTok's own codes become facts: :class:`UserNotFound`, :class:`UserOffline`,
  :class:`AgeRestricted`, :class:`InvalidSession`, else :class:`APIError`.

Secrets: a session id only ever travels in the ``Cookie`` header, which :class:`Request`'s repr
redacts; no builder puts it in a URL and no error message quotes a cookie value.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import quote, urlencode, urlsplit

from webcast_proto._errors import (
    AgeRestricted,
    APIError,
    CaptchaRequired,
    HTTPError,
    HTTPStatusError,
    InvalidSession,
    RateLimited,
    RemoteProtocolError,
    UnexpectedHTML,
    UnexpectedResponse,
    UserNotFound,
    UserOffline,
    WebcastBlocked,
)
from webcast_proto.config import (
    _CONTROL_CHARS,
    DEFAULT_LIMITS,
    ClientParams,
    Endpoints,
    Limits,
    _merge_headers,
)
from webcast_proto.events import GiftInfo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.events import JSONValue

__all__ = [
    "API_ROUTE",
    "DEFAULT_PING_INTERVAL",
    "DEFAULT_ROOM_ID_ROUTES",
    "LEGACY_LIVE_PAGE_ROUTE",
    "LIVE_PAGE_ROUTE",
    "SESSION_COOKIE_NAMES",
    "SIGI_STATE_PATTERN",
    "ChatSent",
    "HandshakeInfo",
    "LegacyLivePageRoute",
    "LivePageRoute",
    "Request",
    "Response",
    "RoomIdApiRoute",
    "RoomIdRoute",
    "RoomInfo",
    "RoomLookup",
    "RoomOwner",
    "RoomStatus",
    "build_check_alive_request",
    "build_fetch_request",
    "build_gift_list_request",
    "build_live_page_request",
    "build_room_id_api_request",
    "build_room_info_request",
    "build_send_chat_request",
    "build_websocket_headers",
    "build_websocket_url",
    "cookie_header",
    "normalize_unique_id",
    "parse_check_alive_response",
    "parse_fetch_response",
    "parse_gift_list_response",
    "parse_handshake_options",
    "parse_handshake_response",
    "parse_live_page",
    "parse_live_page_legacy",
    "parse_retry_after",
    "parse_room_id_api_response",
    "parse_room_info_response",
    "parse_send_chat_response",
    "ping_interval",
]

# Header names whose values are secrets: never shown in a repr, a log line or an error.
_SECRET_HEADERS = frozenset({"cookie", "x-api-key", "x-cookie-header", "x-jwt-key", "x-oauth-token"})
# Response headers that may carry session cookies (TikTok's own, or the sign server's, SPEC.md §2.6).
_SECRET_RESPONSE_HEADERS = _SECRET_HEADERS | {"set-cookie", "x-set-tt-cookie"}

# Cookies holding the session id (SPEC.md §10; [C2] adds `sid_guard`).
SESSION_COOKIE_NAMES: Final = ("sessionid", "sessionid_ss", "sid_tt")
_SESSION_COOKIES_TO_STRIP = frozenset({*SESSION_COOKIE_NAMES, "sid_guard"})


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
    """An HTTP response, as the transport received it, for the parsers here.

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


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


class RoomStatus(enum.IntEnum):
    """``status`` of a room (SPEC.md §2.3: 2 live, 4 ended; 3 paused per third parties)."""

    LIVE = 2
    PAUSED = 3
    ENDED = 4


def _room_status(value: int) -> int:
    try:
        return RoomStatus(value)
    except ValueError:
        return value  # unknown values are kept (SPEC.md §11: other values may exist)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomLookup:
    """A user's room id, as a room-id route found it (SPEC.md §2.2).

    Attributes:
        room_id: the room id.
        unique_id: the username (from the answer when it says, else the one asked for).
        is_live: ``True``/``False`` when the answer tells (room status 4 is offline, anything else
            live, as [C2]); ``None`` when it does not (the old HTML method).
        source: the :attr:`RoomIdRoute.name` of the route that found it.
    """

    room_id: int
    unique_id: str
    is_live: bool | None = None
    source: str = ""

    def require_live(self) -> RoomLookup:
        """This lookup, if the room is not known to be offline.

        Returns:
            ``self``.

        Raises:
            UserOffline: if :attr:`is_live` is ``False``.
        """
        if self.is_live is False:
            raise UserOffline(f"@{self.unique_id} is not live (room {self.room_id})")
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomOwner:
    """The host of a room, from room/info ``data.owner`` (SPEC.md §2.3)."""

    user_id: int = 0
    unique_id: str = ""  # `display_id`
    nickname: str = ""
    bio_description: str = ""
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomInfo:
    """What room/info says about a room (SPEC.md §2.3).

    Attributes:
        room_id: ``data.id_str`` (or ``data.id``); 0 if absent.
        status: a :class:`RoomStatus` when known, else the plain int.
        title: the stream title.
        owner: the host, when ``data.owner`` is present.
        create_time: ``data.create_time`` (seconds), 0 if absent.
        user_count: ``data.user_count``, 0 if absent.
        hls_pull_url: ``data.stream_url.hls_pull_url``.
        stream_data: ``data.stream_url.live_core_sdk_data.pull_data.stream_data`` (JSON text).
        raw: the whole ``data`` object, for fields not modelled here (not in repr, eq or hash).
    """

    room_id: int
    status: int
    title: str = ""
    owner: RoomOwner | None = None
    create_time: int = 0
    user_count: int = 0
    hls_pull_url: str | None = None
    stream_data: str | None = None
    raw: Mapping[str, JSONValue] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def is_live(self) -> bool:
        """Whether the room is live (status 2; paused counts as live, it may resume)."""
        return self.status in (RoomStatus.LIVE, RoomStatus.PAUSED)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatSent:
    """A chat message TikTok accepted (room/chat ``status_code`` 0, SPEC.md §10).

    Attributes:
        server_time: ``extra.now`` (ms), when present.
        raw: the answer's ``data`` object (not in repr, eq or hash).
    """

    server_time: int | None = None
    raw: Mapping[str, JSONValue] = field(default_factory=dict, repr=False, compare=False, hash=False)


# --------------------------------------------------------------------------------------------
# Shared checks: size, status, retry headers, JSON
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


def _quote_text(text: str) -> str:
    text = _CONTROL_CHARS.sub(" ", text).strip()
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """Deepest nesting of arrays/objects in ``text``, found without parsing (so without recursion)."""
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub('""', text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


def _error_detail(response: Response) -> str:
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
    return f": {_quote_text(' / '.join(parts))}" if parts else ""


def _check_size(response: Response, limits: Limits, what: str) -> None:
    size = len(response.body)
    if size > limits.max_http_body_size:
        raise RemoteProtocolError(
            f"{what}: body of {size} bytes exceeds Limits.max_http_body_size ({limits.max_http_body_size})"
        )


def _raise_for_status(response: Response, what: str) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    detail = _error_detail(response)
    retry_after = parse_retry_after(response)
    if code == 429:
        raise RateLimited(
            f"{what}: rate limited (HTTP 429){detail}", status_code=code, retry_after=retry_after
        )
    raise HTTPStatusError(
        f"{what}: expected HTTP 200, got {code}{detail}", status_code=code, retry_after=retry_after
    )


def _content_type(response: Response) -> str:
    return (response.header("content-type") or "").lower()


def _looks_like_html(response: Response) -> bool:
    return "html" in _content_type(response) or response.body.lstrip()[:1] == b"<"


def _parse_json(
    text: str, *, limits: Limits, what: str, error: type[HTTPError], status_code: int | None
) -> JSONValue:
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


def _load_json_object(response: Response, *, limits: Limits, what: str) -> dict[str, JSONValue]:
    """The JSON object of a successful answer, after every check in this module's docstring."""
    _check_size(response, limits, what)
    _raise_for_status(response, what)
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
    value = _parse_json(text, limits=limits, what=what, error=UnexpectedResponse, status_code=status)
    if not isinstance(value, dict):
        raise UnexpectedResponse(
            f"{what}: expected a JSON object, got {type(value).__name__}", status_code=status
        )
    return value


def _get(value: JSONValue, *path: str) -> JSONValue:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


_DECIMAL = re.compile(r"-?[0-9]{1,20}")


def _as_int(value: JSONValue) -> int | None:
    """An int from a JSON int or decimal string (TikTok sends 64-bit ids both ways)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    return None


def _as_str(value: JSONValue) -> str:
    return value if isinstance(value, str) else ""


def _first_url(image: JSONValue) -> str | None:
    """``url_list[0]`` of a TikTok image object."""
    urls = _get(image, "url_list")
    if isinstance(urls, list) and urls and isinstance(urls[0], str):
        return urls[0]
    return None


def _raise_for_webcast_code(body: dict[str, JSONValue], *, what: str, status: int) -> None:
    """:class:`APIError` for a non-zero ``status_code`` of a ``{data, extra, status_code}`` answer (§2.3)."""
    code = _as_int(body.get("status_code", 0))
    if code:
        data = body.get("data")
        message = _as_str(_get(data, "message")) or _as_str(_get(data, "prompts"))
        raise APIError(
            f"{what}: API error {code} ({_quote_text(message)})", api_code=code, status_code=status
        )


def _webcast_data(body: dict[str, JSONValue], *, what: str, status: int) -> dict[str, JSONValue]:
    """``data`` of a ``{data, extra, status_code}`` answer (SPEC.md §2.3), or :class:`APIError`."""
    _raise_for_webcast_code(body, what=what, status=status)
    data = body.get("data")
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"{what}: no 'data' object in the answer", status_code=status)
    return data


# --------------------------------------------------------------------------------------------
# URLs, cookies and headers
# --------------------------------------------------------------------------------------------

# A cookie name is an RFC 6265 token; a value must not break the header apart.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_COOKIE_VALUE = re.compile(r'[\x00-\x1f\x7f;,"\\ ]')


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
        if _BAD_COOKIE_VALUE.search(value):
            raise ValueError(f"invalid characters in the value of cookie {name!r}")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _http_headers(
    client_params: ClientParams,
    cookies: Mapping[str, str] | None,
    extra_headers: Sequence[tuple[str, str]],
    *,
    session_id: str | None = None,
) -> tuple[tuple[str, str], ...]:
    jar = client_params.default_cookies()
    jar.update(cookies or {})
    if session_id is not None:
        jar.update(dict.fromkeys(SESSION_COOKIE_NAMES, session_id))
    headers = client_params.http_headers()
    if jar:
        headers = (*headers, ("Cookie", cookie_header(jar)))
    return _merge_headers(headers, tuple(extra_headers))


def _url(base: str, path: str, items: Sequence[tuple[str, str]]) -> str:
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


def _who(unique_id: str) -> str:
    """``@user`` for messages, or ``the user`` when the caller did not say who."""
    return f"@{unique_id}" if unique_id else "the user"


def _unique_id_path(unique_id: str) -> str:
    return quote(normalize_unique_id(unique_id), safe="._-")


def _check_room_id(room_id: object) -> str:
    if not isinstance(room_id, int) or isinstance(room_id, bool) or room_id <= 0:
        raise ValueError(f"room_id must be a positive int, got {room_id!r}")
    return str(room_id)


# --------------------------------------------------------------------------------------------
# Room id lookup (SPEC.md §2.2)
# --------------------------------------------------------------------------------------------

# SPEC.md §2.2: the content of the SIGI_STATE script, non-greedy. Attribute order and quoting vary
# between page versions, so only `id` is required ([C2] makes this pattern overridable too).
SIGI_STATE_PATTERN: Final = re.compile(
    r"""<script\b[^>]*\bid\s*=\s*["']SIGI_STATE["'][^>]*>(.*?)</script>""", re.DOTALL | re.IGNORECASE
)


def build_live_page_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    unique_id: str,
    with_client_params: bool = False,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {web}/@{unique_id}/live``: the live page, for the room id (SPEC.md §2.1, §2.2).

    Args:
        endpoints: where ``web`` is.
        client_params: headers (and query, see ``with_client_params``).
        unique_id: the username (normalised here).
        with_client_params: add the client params as query ([C2]); [TL]/[V1] send none (default).
        cookies: the cookie jar; the default ``tt-target-idc`` cookie is added under it.
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: on a bad username, header or cookie.
    """
    items = client_params.http_query_items() if with_client_params else ()
    url = _url(endpoints.web, f"/@{_unique_id_path(unique_id)}/live", items)
    return Request("GET", url, _http_headers(client_params, cookies, extra_headers))


def _decode_html(response: Response, limits: Limits, what: str) -> str:
    _check_size(response, limits, what)
    _raise_for_status(response, what)
    if not response.body.strip():
        raise CaptchaRequired(f"{what}: empty page (blocked by TikTok?)", status_code=response.status_code)
    return response.body.decode("utf-8", errors="replace")


def parse_live_page(
    response: Response,
    *,
    unique_id: str = "",
    limits: Limits = DEFAULT_LIMITS,
    pattern: re.Pattern[str] = SIGI_STATE_PATTERN,
) -> RoomLookup:
    """The room id from the live page's ``SIGI_STATE`` JSON (SPEC.md §2.2, current method).

    Args:
        response: the answer to :func:`build_live_page_request`.
        unique_id: the username asked for, used if the page does not say.
        limits: body size and JSON depth limits.
        pattern: extracts the JSON text as group 1.

    Returns:
        The room id, username and live state (``liveRoom.status``, else ``user.status``: 4 offline).

    Raises:
        CaptchaRequired: no ``SIGI_STATE`` tag or empty page (blocked), or bad JSON in it (captcha).
        UserNotFound: no ``LiveRoom`` in the state (no such user, or one who cannot go live).
        UnexpectedResponse: no usable ``roomId``.
        RateLimited, HTTPStatusError: on HTTP 429 or another error status.
        RemoteProtocolError: body or JSON nesting past ``limits``.
    """
    what = "live page"
    html = _decode_html(response, limits, what)
    status = response.status_code
    match = pattern.search(html)
    if match is None:
        raise CaptchaRequired(
            f"{what}: no SIGI_STATE script; you might be blocked by TikTok", status_code=status
        )
    state = _parse_json(match.group(1), limits=limits, what=what, error=CaptchaRequired, status_code=status)
    if not isinstance(state, dict):
        raise CaptchaRequired(
            f"{what}: SIGI_STATE is not a JSON object (captcha-blocked?)", status_code=status
        )
    live_room = state.get("LiveRoom")
    if not isinstance(live_room, dict):
        raise UserNotFound(
            f"{what}: no LiveRoom for {_who(unique_id)} (no such user, or one who cannot go live)",
            status_code=status,
        )
    info = _get(live_room, "liveRoomUserInfo")
    user = _get(info, "user")
    room_id = _as_int(_get(user, "roomId"))
    if not room_id:
        raise UnexpectedResponse(f"{what}: LiveRoom has no liveRoomUserInfo.user.roomId", status_code=status)
    room_status = _as_int(_get(info, "liveRoom", "status"))
    if room_status is None:
        room_status = _as_int(_get(user, "status"))
    return RoomLookup(
        room_id=room_id,
        unique_id=_as_str(_get(user, "uniqueId")) or unique_id,
        is_live=None if room_status is None else room_status != RoomStatus.ENDED,
        source="live_page",
    )


# SPEC.md §2.2, old method: tried in this order.
_LEGACY_NEAR_ROOM_ID = re.compile(r'roomId":"([0-9]+)"')
_LEGACY_FALLBACKS: Final = (re.compile(r"room_id=([0-9]+)"), re.compile(r'"roomId":"([0-9]+)"'))
_LEGACY_WINDOW = 50


def parse_live_page_legacy(
    response: Response, *, unique_id: str = "", limits: Limits = DEFAULT_LIMITS
) -> RoomLookup:
    """The room id from the live page by the old regexes of [S]/[V1] (SPEC.md §2.2).

    At each ``roomId`` the next 50 characters must hold ``roomId":"<digits>"``; else ``room_id=<digits>``;
    else ``"roomId":"<digits>"`` anywhere. A room id of 0 does not count.

    Args:
        response: the answer to :func:`build_live_page_request`.
        unique_id: the username asked for (the page is not searched for it).
        limits: the body size limit.

    Returns:
        The room id; ``is_live`` is ``None`` (this method cannot tell).

    Raises:
        UserOffline: no match on a page with ``"og:url"`` ("User might be offline.").
        CaptchaRequired: no match otherwise ("IP or country might be blocked"), or an empty page.
        RateLimited, HTTPStatusError: on HTTP 429 or another error status.
        RemoteProtocolError: body past ``limits``.
    """
    what = "live page (old method)"
    html = _decode_html(response, limits, what)
    candidates = (
        _LEGACY_NEAR_ROOM_ID.match(html, m.start(), m.start() + _LEGACY_WINDOW)
        for m in re.finditer("roomId", html)
    )
    fallbacks = (pattern.search(html) for pattern in _LEGACY_FALLBACKS)
    for match in (*candidates, *fallbacks):
        if match is not None and int(match.group(1)):
            return RoomLookup(room_id=int(match.group(1)), unique_id=unique_id, source="live_page_legacy")
    if '"og:url"' in html:
        raise UserOffline(f"{what}: no room id; user might be offline", status_code=response.status_code)
    raise CaptchaRequired(
        f"{what}: no room id; your IP or country might be blocked by TikTok", status_code=response.status_code
    )


_ROOM_ID_API_PATH = "/api-live/user/room/"
_USER_NOT_FOUND = 19881007  # SPEC.md §2.2, observed with message "user_not_found"


def build_room_id_api_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    unique_id: str,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {web}/api-live/user/room/?{client params}&uniqueId=…&sourceType=54`` (SPEC.md §2.1).

    Args:
        endpoints: where ``web`` is.
        client_params: the query params and headers.
        unique_id: the username (normalised here).
        cookies: the cookie jar; the default ``tt-target-idc`` cookie is added under it.
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: on a bad username, header or cookie.
    """
    items = (
        *client_params.http_query_items(),
        ("uniqueId", normalize_unique_id(unique_id)),
        ("sourceType", "54"),
    )
    return Request(
        "GET",
        _url(endpoints.web, _ROOM_ID_API_PATH, items),
        _http_headers(client_params, cookies, extra_headers),
    )


def parse_room_id_api_response(
    response: Response, *, unique_id: str = "", limits: Limits = DEFAULT_LIMITS
) -> RoomLookup:
    """The room id from the ``api-live/user/room`` JSON (SPEC.md §2.2).

    Args:
        response: the answer to :func:`build_room_id_api_request`.
        unique_id: the username asked for, used if the answer does not say.
        limits: body size and JSON depth limits.

    Returns:
        The room id, username and live state (``data.liveRoom.status``: 4 offline, else live).

    Raises:
        UserNotFound: ``statusCode`` 19881007 or ``message`` ``user_not_found``.
        APIError: any other non-zero ``statusCode`` ([V1]/[C2]).
        UnexpectedResponse: no usable ``data.user.roomId`` ([C2]), malformed JSON.
        UnexpectedHTML, CaptchaRequired: an HTML page or empty body instead of JSON.
        RateLimited, HTTPStatusError: on HTTP 429 or another error status.
        RemoteProtocolError: body or JSON nesting past ``limits``.
    """
    what = "room id API"
    body = _load_json_object(response, limits=limits, what=what)
    status = response.status_code
    code = _as_int(body.get("statusCode", 0))
    message = _as_str(body.get("message"))
    if code == _USER_NOT_FOUND or message == "user_not_found":
        raise UserNotFound(
            f"{what}: {_who(unique_id)} not found (API {code}, {_quote_text(message)!r})", status_code=status
        )
    if code:
        raise APIError(
            f"{what}: API error {code} ({_quote_text(message)})", api_code=code, status_code=status
        )
    user = _get(body, "data", "user")
    room_id = _as_int(_get(user, "roomId"))
    if not room_id:
        raise UnexpectedResponse(f"{what}: no data.user.roomId in the answer", status_code=status)
    room_status = _as_int(_get(body, "data", "liveRoom", "status"))
    return RoomLookup(
        room_id=room_id,
        unique_id=_as_str(_get(user, "uniqueId")) or unique_id,
        is_live=None if room_status is None else room_status != RoomStatus.ENDED,
        source="api",
    )


class RoomIdRoute(Protocol):
    """One way to find a user's room id: a request to make and a parser for its answer.

    The transport walks a sequence of routes (:data:`DEFAULT_ROOM_ID_ROUTES`, or the user's): it
    performs ``build_request(...)``, passes the answer to ``parse_response(...)``, and on an
    :class:`~webcast_proto.HTTPError` tries the next route, raising the last error when all fail. An
    offline room is not an error here (``RoomLookup.is_live`` is ``False``), so it ends the walk as
    [TL] does (SPEC.md §2.2: fall back "on any HTML failure except offline").
    """

    @property
    def name(self) -> str:
        """A short name for logs and :attr:`RoomLookup.source`."""
        ...

    def build_request(
        self,
        *,
        unique_id: str,
        endpoints: Endpoints,
        client_params: ClientParams,
        cookies: Mapping[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """The request to perform for ``unique_id``."""
        ...

    def parse_response(
        self, response: Response, *, unique_id: str, limits: Limits = DEFAULT_LIMITS
    ) -> RoomLookup:
        """The room id from the answer, or a typed error."""
        ...


@dataclass(frozen=True, slots=True)
class LivePageRoute:
    """The live page's ``SIGI_STATE`` ([TL], [C2]; :func:`parse_live_page`)."""

    pattern: re.Pattern[str] = SIGI_STATE_PATTERN
    with_client_params: bool = False
    name: str = "live_page"

    def build_request(
        self,
        *,
        unique_id: str,
        endpoints: Endpoints,
        client_params: ClientParams,
        cookies: Mapping[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """See :func:`build_live_page_request`."""
        return build_live_page_request(
            endpoints=endpoints,
            client_params=client_params,
            unique_id=unique_id,
            with_client_params=self.with_client_params,
            cookies=cookies,
            extra_headers=extra_headers,
        )

    def parse_response(
        self, response: Response, *, unique_id: str, limits: Limits = DEFAULT_LIMITS
    ) -> RoomLookup:
        """See :func:`parse_live_page`."""
        return parse_live_page(response, unique_id=unique_id, limits=limits, pattern=self.pattern)


@dataclass(frozen=True, slots=True)
class LegacyLivePageRoute:
    """The live page by the old regexes ([S]/[V1]; :func:`parse_live_page_legacy`)."""

    name: str = "live_page_legacy"

    def build_request(
        self,
        *,
        unique_id: str,
        endpoints: Endpoints,
        client_params: ClientParams,
        cookies: Mapping[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """See :func:`build_live_page_request`."""
        return build_live_page_request(
            endpoints=endpoints,
            client_params=client_params,
            unique_id=unique_id,
            cookies=cookies,
            extra_headers=extra_headers,
        )

    def parse_response(
        self, response: Response, *, unique_id: str, limits: Limits = DEFAULT_LIMITS
    ) -> RoomLookup:
        """See :func:`parse_live_page_legacy`."""
        return parse_live_page_legacy(response, unique_id=unique_id, limits=limits)


@dataclass(frozen=True, slots=True)
class RoomIdApiRoute:
    """The ``api-live/user/room`` JSON route (:func:`parse_room_id_api_response`)."""

    name: str = "api"

    def build_request(
        self,
        *,
        unique_id: str,
        endpoints: Endpoints,
        client_params: ClientParams,
        cookies: Mapping[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """See :func:`build_room_id_api_request`."""
        return build_room_id_api_request(
            endpoints=endpoints,
            client_params=client_params,
            unique_id=unique_id,
            cookies=cookies,
            extra_headers=extra_headers,
        )

    def parse_response(
        self, response: Response, *, unique_id: str, limits: Limits = DEFAULT_LIMITS
    ) -> RoomLookup:
        """See :func:`parse_room_id_api_response`."""
        return parse_room_id_api_response(response, unique_id=unique_id, limits=limits)


LIVE_PAGE_ROUTE: Final = LivePageRoute()
LEGACY_LIVE_PAGE_ROUTE: Final = LegacyLivePageRoute()
API_ROUTE: Final = RoomIdApiRoute()
# SPEC.md §2.2: live-page HTML, then the API ([TL], [C2]). The old regexes are opt-in.
DEFAULT_ROOM_ID_ROUTES: Final[tuple[RoomIdRoute, ...]] = (LIVE_PAGE_ROUTE, API_ROUTE)


# --------------------------------------------------------------------------------------------
# Room info, live check, gifts (SPEC.md §2.3)
# --------------------------------------------------------------------------------------------


def _webcast_get(
    path: str,
    extra_items: Sequence[tuple[str, str]],
    endpoints: Endpoints,
    client_params: ClientParams,
    cookies: Mapping[str, str] | None,
    extra_headers: Sequence[tuple[str, str]],
) -> Request:
    items = (*client_params.http_query_items(), *extra_items)
    return Request(
        "GET", _url(endpoints.webcast, path, items), _http_headers(client_params, cookies, extra_headers)
    )


def build_room_info_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    room_id: int,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {webcast}/room/info/?{client params}&room_id=…`` (SPEC.md §2.1).

    Args:
        endpoints: where ``webcast`` is.
        client_params: the query params and headers.
        room_id: the room.
        cookies: the cookie jar (a session cookie here lifts the age restriction).
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: on a bad room id, header or cookie.
    """
    items = (("room_id", _check_room_id(room_id)),)
    return _webcast_get("/room/info/", items, endpoints, client_params, cookies, extra_headers)


def parse_room_info_response(
    response: Response, *, limits: Limits = DEFAULT_LIMITS, require_live: bool = True
) -> RoomInfo:
    """The room from a room/info answer ``{data, extra, status_code}`` (SPEC.md §2.3).

    Age restriction is checked first, as [TL] does on ``data`` alone: ``data`` holding ``prompts``, or
    at most one key, is the page a logged-out client gets for an age-restricted room.

    Args:
        response: the answer to :func:`build_room_info_request`.
        limits: body size and JSON depth limits.
        require_live: raise :class:`UserOffline` for status 4 (as [S]/[V1]/[C2] on connect).

    Returns:
        The room.

    Raises:
        AgeRestricted: ``data`` has ``prompts`` or at most one key (a session bypasses this).
        UserOffline: status 4 and ``require_live``.
        APIError: non-zero ``status_code``.
        UnexpectedResponse: no ``data`` object or no integer ``data.status``; malformed JSON.
        UnexpectedHTML, CaptchaRequired: an HTML page or empty body instead of JSON.
        RateLimited, HTTPStatusError: on HTTP 429 or another error status.
        RemoteProtocolError: body or JSON nesting past ``limits``.
    """
    what = "room info"
    body = _load_json_object(response, limits=limits, what=what)
    status = response.status_code
    data = body.get("data")
    if isinstance(data, dict) and ("prompts" in data or len(data) <= 1):
        raise AgeRestricted(
            f"{what}: the room is age-restricted; a logged-in session is needed", status_code=status
        )
    data = _webcast_data(body, what=what, status=status)
    room_status = _as_int(data.get("status"))
    if room_status is None:
        raise UnexpectedResponse(f"{what}: no integer data.status in the answer", status_code=status)
    room_id = _as_int(data.get("id_str")) or _as_int(data.get("id")) or 0
    if require_live and room_status == RoomStatus.ENDED:
        raise UserOffline(f"{what}: room {room_id} is not live (status 4)", status_code=status)
    owner = data.get("owner")
    return RoomInfo(
        room_id=room_id,
        status=_room_status(room_status),
        title=_as_str(data.get("title")),
        owner=None
        if not isinstance(owner, dict)
        else RoomOwner(
            user_id=_as_int(owner.get("id_str")) or _as_int(owner.get("id")) or 0,
            unique_id=_as_str(owner.get("display_id")),
            nickname=_as_str(owner.get("nickname")),
            bio_description=_as_str(owner.get("bio_description")),
            avatar_url=_first_url(owner.get("avatar_thumb")),
        ),
        create_time=_as_int(data.get("create_time")) or 0,
        user_count=_as_int(data.get("user_count")) or 0,
        hls_pull_url=_as_str(_get(data, "stream_url", "hls_pull_url")) or None,
        stream_data=_as_str(_get(data, "stream_url", "live_core_sdk_data", "pull_data", "stream_data"))
        or None,
        raw=data,
    )


def build_check_alive_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    room_ids: Sequence[int],
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {webcast}/room/check_alive/?{params}&room_ids=1,2,…`` ([TL], SPEC.md §2.1).

    Args:
        endpoints: where ``webcast`` is.
        client_params: the query params and headers.
        room_ids: one or more rooms.
        cookies: the cookie jar.
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: no room ids, a bad room id, header or cookie.
    """
    if not room_ids:
        raise ValueError("check_alive needs at least one room id")
    items = (("room_ids", ",".join(_check_room_id(r) for r in room_ids)),)
    return _webcast_get("/room/check_alive/", items, endpoints, client_params, cookies, extra_headers)


def parse_check_alive_response(response: Response, *, limits: Limits = DEFAULT_LIMITS) -> tuple[bool, ...]:
    """Which rooms are live, from ``data[i].alive`` in request order ([TL], SPEC.md §2.1).

    Args:
        response: the answer to :func:`build_check_alive_request`.
        limits: body size and JSON depth limits.

    Returns:
        One bool per room asked for.

    Raises:
        UnexpectedResponse: ``data`` is not a list of objects with a bool ``alive``.
        APIError: non-zero ``status_code``.
        UnexpectedHTML, CaptchaRequired, RateLimited, HTTPStatusError, RemoteProtocolError: as the
            other parsers.
    """
    what = "live check"
    body = _load_json_object(response, limits=limits, what=what)
    _raise_for_webcast_code(body, what=what, status=response.status_code)
    data = body.get("data")
    alive = [_get(entry, "alive") for entry in data] if isinstance(data, list) else None
    if alive is None or not all(isinstance(a, bool) for a in alive):
        raise UnexpectedResponse(f"{what}: expected data[i].alive booleans", status_code=response.status_code)
    return tuple(a is True for a in alive)


def build_gift_list_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    room_id: int,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {webcast}/gift/list/?{client params}&room_id=…`` (SPEC.md §2.1; [C2] signs it).

    Args:
        endpoints: where ``webcast`` is.
        client_params: the query params and headers.
        room_id: the room.
        cookies: the cookie jar.
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: on a bad room id, header or cookie.
    """
    items = (("room_id", _check_room_id(room_id)),)
    return _webcast_get("/gift/list/", items, endpoints, client_params, cookies, extra_headers)


def _gift(entry: JSONValue, index: int, status: int) -> GiftInfo:
    gift_id = _as_int(_get(entry, "id"))
    if not isinstance(entry, dict) or gift_id is None:
        raise UnexpectedResponse(f"gift list: data.gifts[{index}] has no integer id", status_code=status)
    return GiftInfo(
        id=gift_id,
        name=_as_str(entry.get("name")),
        diamond_count=_as_int(entry.get("diamond_count")) or 0,
        image_url=_first_url(entry.get("image")),
        type=_as_int(entry.get("type")) or 0,
        describe=_as_str(entry.get("describe")),
    )


def parse_gift_list_response(response: Response, *, limits: Limits = DEFAULT_LIMITS) -> tuple[GiftInfo, ...]:
    """The gifts of a gift/list answer, ``data.gifts[]`` (SPEC.md §2.3).

    Each entry needs an integer ``id``; ``name``, ``diamond_count``, ``image.url_list[0]``, ``type``
    and ``describe`` are read when present.

    Args:
        response: the answer to :func:`build_gift_list_request`.
        limits: body size and JSON depth limits.

    Returns:
        The gifts in the answer's order.

    Raises:
        UnexpectedResponse: no ``data.gifts`` list, or an entry without an integer ``id``.
        APIError: non-zero ``status_code``.
        UnexpectedHTML, CaptchaRequired, RateLimited, HTTPStatusError, RemoteProtocolError: as the
            other parsers.
    """
    what = "gift list"
    body = _load_json_object(response, limits=limits, what=what)
    data = _webcast_data(body, what=what, status=response.status_code)
    gifts = data.get("gifts")
    if not isinstance(gifts, list):
        raise UnexpectedResponse(
            f"{what}: no data.gifts list in the answer", status_code=response.status_code
        )
    return tuple(_gift(entry, i, response.status_code) for i, entry in enumerate(gifts))


# --------------------------------------------------------------------------------------------
# im/fetch (SPEC.md §2.4)
# --------------------------------------------------------------------------------------------


def build_fetch_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    room_id: int,
    cursor: str = "",
    internal_ext: str = "",
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``GET {webcast}/im/fetch/?{client params}&room_id&cursor&internal_ext&resp_content_type=protobuf``.

    The direct fetch of [S]/[V1] (SPEC.md §2.4, §5): the first one needs a signature (pass it through
    the signer), later polls a session cookie. Current peers get the first fetch from the sign server
    instead (:mod:`webcast_proto.signing`).

    Args:
        endpoints: where ``webcast`` is.
        client_params: the query params and headers.
        room_id: the room.
        cursor: from the previous result (``""`` at first).
        internal_ext: from the previous result (``""`` at first).
        cookies: the cookie jar.
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request.

    Raises:
        ValueError: on a bad room id, header or cookie.
    """
    items = (
        ("room_id", _check_room_id(room_id)),
        ("cursor", cursor),
        ("internal_ext", internal_ext),
        ("resp_content_type", "protobuf"),
    )
    return _webcast_get("/im/fetch/", items, endpoints, client_params, cookies, extra_headers)


def _refuse_non_protobuf(response: Response, *, what: str, error_status: int | None) -> None:
    """Raise when a body meant to be protobuf is HTML or JSON.

    Sniffing the first byte is safe: ``<`` (0x3C) would be an end-group tag and ``{`` (0x7B) a
    start-group tag of field 15, neither possible at the start of a proto3 fetch result (SPEC.md §6.1).
    """
    content_type = _content_type(response)
    first = response.body[:1]
    if "html" in content_type or first == b"<":
        raise UnexpectedHTML(
            f"{what}: expected protobuf, got an HTML page (blocked?)", status_code=error_status
        )
    if "json" in content_type or first == b"{":
        # [V1]: an error as `{error}` with `Retry-After` (SPEC.md §9, InitialFetchError).
        raise UnexpectedResponse(
            f"{what}: expected protobuf, got JSON{_error_detail(response)}",
            status_code=error_status,
            retry_after=parse_retry_after(response),
        )


def parse_fetch_response(response: Response, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The raw ``ProtoMessageFetchResult`` bytes of an im/fetch answer (SPEC.md §2.4).

    Decoding the bytes is the codec's job; this only checks the envelope.

    Args:
        response: the answer to :func:`build_fetch_request`.
        limits: the body size limit.

    Returns:
        The protobuf body.

    Raises:
        RateLimited: HTTP 429 (``retry_after`` from the headers).
        HTTPStatusError: another non-2xx status.
        CaptchaRequired: an empty body (SPEC.md §9: "Are you being detected by TikTok?").
        UnexpectedHTML: an HTML page instead of protobuf.
        UnexpectedResponse: JSON instead of protobuf (its ``error``/``message`` quoted,
            ``retry_after`` from ``Retry-After``, as [V1]).
        RemoteProtocolError: body past ``limits.max_http_body_size``.
    """
    what = "im/fetch"
    _check_size(response, limits, what)
    _raise_for_status(response, what)
    if not response.body:
        raise CaptchaRequired(f"{what}: empty body (detected by TikTok?)", status_code=response.status_code)
    _refuse_non_protobuf(response, what=what, error_status=response.status_code)
    return response.body


# --------------------------------------------------------------------------------------------
# WebSocket (SPEC.md §2.5)
# --------------------------------------------------------------------------------------------

# Both current peers append this after the form-encoded query, so the URL carries `version_code`
# twice (180800 in the ws params, then 270000). Deliberate in both (SPEC.md §2.5); kept literal.
_WS_VERSION_SUFFIX: Final = "&version_code=270000"


def build_websocket_url(
    *,
    push_server: str,
    route_params: Mapping[str, str],
    client_params: ClientParams,
    room_id: int,
    cursor: str = "",
    internal_ext: str = "",
    compress: bool = True,
) -> str:
    """The push-server URL to open (SPEC.md §2.5, [C2] column; §3.3).

    Query: the ws params, then ``compress``, ``room_id``, ``internal_ext``, ``cursor``, then every
    non-empty route param, later keys replacing earlier ones in place; form-encoded; then the literal
    ``&version_code=270000``.

    Where [C2] and [TL] differ we follow [C2]: route params win over ours (they come from the server
    with the signed result, so its values must not be overwritten, where [TL] lets ours win); cursor
    and internal_ext are sent, so the server can resume where the fetch stopped; form encoding
    escapes every value, including route params holding a raw UA ([TL] joins raw ``k=v``). Like
    [TL], ``compress`` is ``""`` when disabled.

    Args:
        push_server: the fetch result's ``push_server`` (or :attr:`Endpoints.push_server`);
            ``ws://`` or ``wss://``.
        route_params: the fetch result's ``route_params``, opaque and copied verbatim.
        client_params: the ws params (and the UA query param, [C2]).
        room_id: the room.
        cursor: the fetch result's cursor.
        internal_ext: the fetch result's internal_ext.
        compress: ask for gzip'd frames (``compress=gzip``).

    Returns:
        The URL.

    Raises:
        ValueError: ``push_server`` is not a ``ws://``/``wss://`` URL, or a bad room id.
    """
    parts = urlsplit(push_server)
    if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"push_server must be a ws:// or wss:// URL, got {push_server[:100]!r}")
    items = dict(client_params.ws_query_items())
    items.update(
        compress="gzip" if compress else "",
        room_id=_check_room_id(room_id),
        internal_ext=internal_ext,
        cursor=cursor,
    )
    items.update((k, v) for k, v in route_params.items() if v)
    separator = "&" if parts.query else ("" if push_server.endswith("?") else "?")
    return f"{push_server}{separator}{urlencode(list(items.items()))}{_WS_VERSION_SUFFIX}"


def build_websocket_headers(
    *,
    client_params: ClientParams,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
    authenticate: bool = False,
) -> tuple[tuple[str, str], ...]:
    """The headers of the WebSocket upgrade request (SPEC.md §2.5, [C2] column).

    ``User-Agent`` and ``Cookie``. Like [C2], the session cookies (``sessionid``, ``sessionid_ss``,
    ``sid_tt``, ``sid_guard``) and ``tt-target-idc`` are left out unless ``authenticate``, so a
    session is only shown to the push server when the caller means it; a URL signed with a session
    then needs ``authenticate=True`` (else "illegal secret key", SPEC.md §9). No ``Origin``, no
    subprotocol: current peers send neither.

    Args:
        client_params: the UA, and the default cookie.
        cookies: the cookie jar (including the sign server's ``X-Set-TT-Cookie`` cookies).
        extra_headers: added to, or replacing, these headers.
        authenticate: send the whole jar, session cookies included ([C2] ``authenticateWs``).

    Returns:
        ``(name, value)`` pairs.

    Raises:
        ValueError: on a bad header or cookie.
    """
    jar = client_params.default_cookies()
    jar.update(cookies or {})
    if not authenticate:
        jar = {k: v for k, v in jar.items() if k not in _SESSION_COOKIES_TO_STRIP and k != "tt-target-idc"}
    headers: tuple[tuple[str, str], ...] = (("User-Agent", client_params.user_agent),)
    if jar:
        headers = (*headers, ("Cookie", cookie_header(jar)))
    return _merge_headers(headers, tuple(extra_headers))


# [TL] reads `ping-interval` and falls back to 5.0 s (SPEC.md §2.5, §4.4); [C2] and [S]/[V1] use a
# fixed 10 s without reading the header. We follow the only peer that reads it, fallback included.
DEFAULT_PING_INTERVAL: Final = 5.0
# A ping-interval outside this range is ignored: below 1 s would flood the socket with heartbeats,
# above 5 min would let any idle timeout of the server fire first.
_PING_INTERVAL_RANGE: Final = (1.0, 300.0)


def parse_handshake_options(value: str) -> dict[str, str]:
    """The ``Handshake-Options`` header of the upgrade response: cookie-style ``k=v; k=v`` (SPEC.md §2.5).

    Args:
        value: the header value.

    Returns:
        Keys and values, whitespace-trimmed; items without ``=`` or with an empty key are skipped; a
        repeated key keeps its last value.
    """
    options: dict[str, str] = {}
    for item in value.split(";"):
        key, sep, val = item.partition("=")
        if sep and key.strip():
            options[key.strip()] = val.strip()
    return options


def ping_interval(options: Mapping[str, str], *, default: float = DEFAULT_PING_INTERVAL) -> float:
    """The heartbeat period the push server asks for: ``ping-interval`` in seconds ([TL], SPEC.md §2.5).

    Args:
        options: from :func:`parse_handshake_options`.
        default: used when the option is absent, not a number, or outside 1-300 s.

    Returns:
        Seconds between heartbeats.
    """
    try:
        seconds = float(options.get("ping-interval", ""))
    except ValueError:
        return default
    low, high = _PING_INTERVAL_RANGE
    return seconds if low <= seconds <= high else default


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeInfo:
    """What an accepted upgrade response says.

    Attributes:
        ping_interval: heartbeat period in seconds (:func:`ping_interval`).
        options: every ``Handshake-Options`` item, in order.
    """

    ping_interval: float = DEFAULT_PING_INTERVAL
    options: tuple[tuple[str, str], ...] = ()


def parse_handshake_response(response: Response) -> HandshakeInfo:
    """Check the upgrade response and read its options (SPEC.md §2.5, §9).

    Args:
        response: the status and headers of the upgrade answer (the body, if any, is ignored).

    Returns:
        The options, when the status is 101.

    Raises:
        RateLimited: HTTP 429.
        WebcastBlocked: any other status (TikTok answers 200 or 400 with the reason in
            ``Handshake-Msg``, e.g. "illegal secret key"); not retryable, as [TL].
    """
    if response.status_code == 101:
        options = parse_handshake_options(response.header("handshake-options") or "")
        return HandshakeInfo(ping_interval=ping_interval(options), options=tuple(options.items()))
    if response.status_code == 429:
        raise RateLimited(
            "websocket: rate limited (HTTP 429)", status_code=429, retry_after=parse_retry_after(response)
        )
    reason = _quote_text(response.header("handshake-msg") or "no Handshake-Msg")
    raise WebcastBlocked(
        f"websocket: push server refused the upgrade with HTTP {response.status_code}: {reason}",
        status_code=response.status_code,
    )


# --------------------------------------------------------------------------------------------
# Send chat (SPEC.md §10, [S]/[V1] direct)
# --------------------------------------------------------------------------------------------

_INVALID_SESSION = 20003  # SPEC.md §10: "Your SessionId has expired"


def _check_session_id(session_id: object) -> None:
    if not isinstance(session_id, str) or not session_id:
        raise ValueError("sending chat needs a session id (the sessionid cookie of a logged-in account)")
    if _BAD_COOKIE_VALUE.search(session_id):
        raise ValueError("the session id contains characters not allowed in a cookie")


def build_send_chat_request(
    *,
    endpoints: Endpoints,
    client_params: ClientParams,
    room_id: int,
    text: str,
    session_id: str,
    cookies: Mapping[str, str] | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Request:
    """``POST {webcast}/room/chat/?{client params}&room_id&content=…``, empty body (SPEC.md §10).

    The session id goes only into the cookies ``sessionid``, ``sessionid_ss`` and ``sid_tt`` (which
    replace any in ``cookies``), never into the URL; ``user_is_login`` is ``true``.

    Args:
        endpoints: where ``webcast`` is.
        client_params: the query params and headers.
        room_id: the room.
        text: the message.
        session_id: the ``sessionid`` cookie of a logged-in account (a secret).
        cookies: the rest of the cookie jar (e.g. ``tt-target-idc`` of the account).
        extra_headers: added to, or replacing, the default headers.

    Returns:
        The request (its repr redacts the cookies).

    Raises:
        ValueError: empty text, a missing or malformed session id (the message never quotes it), a
            bad room id, header or cookie.
    """
    _check_session_id(session_id)
    if not text.strip():
        raise ValueError("chat text must not be empty")
    params = replace(client_params, user_is_login=True)
    items = (*params.http_query_items(), ("room_id", _check_room_id(room_id)), ("content", text))
    url = _url(endpoints.webcast, "/room/chat/", items)
    if session_id in url or quote(session_id) in url:
        # Only reachable if the caller put the session id in a param or the text: refuse to leak it.
        raise ValueError("the session id must not appear in the URL (found in a param or the text)")
    return Request("POST", url, _http_headers(params, cookies, extra_headers, session_id=session_id))


def parse_send_chat_response(response: Response, *, limits: Limits = DEFAULT_LIMITS) -> ChatSent:
    """TikTok's answer to a chat message, ``{status_code, data, extra: {now}}`` (SPEC.md §10).

    Args:
        response: the answer to :func:`build_send_chat_request`.
        limits: body size and JSON depth limits.

    Returns:
        The accepted message's answer (``status_code`` 0).

    Raises:
        InvalidSession: ``status_code`` 20003 (session expired or invalid).
        APIError: another non-zero ``status_code`` (``data.message`` quoted).
        UnexpectedResponse: no integer ``status_code``; malformed JSON.
        UnexpectedHTML, CaptchaRequired, RateLimited, HTTPStatusError, RemoteProtocolError: as the
            other parsers.
    """
    what = "send chat"
    body = _load_json_object(response, limits=limits, what=what)
    return _chat_sent(body, what=what, status=response.status_code)


def _chat_sent(body: dict[str, JSONValue], *, what: str, status: int) -> ChatSent:
    """TikTok's room/chat answer ``{status_code, data, extra: {now}}`` → ChatSent or its error (§10)."""
    code = _as_int(body.get("status_code"))
    if code is None:
        raise UnexpectedResponse(f"{what}: no integer status_code in the answer", status_code=status)
    if code == _INVALID_SESSION:
        raise InvalidSession(f"{what}: the session id has expired or is invalid (20003)", status_code=status)
    data = body.get("data")
    if code:
        message = _quote_text(_as_str(_get(data, "message")))
        raise APIError(f"{what}: API error {code} ({message})", api_code=code, status_code=status)
    return ChatSent(
        server_time=_as_int(_get(body, "extra", "now")),
        raw=data if isinstance(data, dict) else {},
    )
