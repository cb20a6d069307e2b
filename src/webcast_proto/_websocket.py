"""The push-server WebSocket (SPEC.md §2.5, §3.3, §4.4): its URL, upgrade headers and handshake answer.

The URL is built from the fetch result (``push_server``, ``route_params``, cursor, internal_ext) and
the ws client params; the upgrade request carries the UA and the cookie jar, session cookies left out
unless the caller authenticates; a 101 answer's ``Handshake-Options`` set the heartbeat period, any
other answer is a typed refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode, urlsplit

from webcast_proto._checks import merge_headers
from webcast_proto._errors import RateLimited, WebcastBlocked
from webcast_proto._http_common import (
    SESSION_COOKIE_NAMES,
    Response,
    check_room_id,
    cookie_header,
    parse_retry_after,
    quote_text,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.config import ClientParams

__all__ = [
    "DEFAULT_PING_INTERVAL",
    "HandshakeInfo",
    "build_websocket_headers",
    "build_websocket_url",
    "parse_handshake_options",
    "parse_handshake_response",
    "ping_interval",
]

# Cookies holding the session id (SPEC.md §10; [C2] adds `sid_guard`): left out unless authenticating.
_SESSION_COOKIES_TO_STRIP = frozenset({*SESSION_COOKIE_NAMES, "sid_guard"})


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
        room_id=check_room_id(room_id),
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
    return merge_headers(headers, tuple(extra_headers))


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
    reason = quote_text(response.header("handshake-msg") or "no Handshake-Msg")
    raise WebcastBlocked(
        f"websocket: push server refused the upgrade with HTTP {response.status_code}: {reason}",
        status_code=response.status_code,
    )
