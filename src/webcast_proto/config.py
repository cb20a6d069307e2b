"""Configuration values of the core: size limits, endpoints and client params.

Every limit is a ``DEFAULT_MAX_…`` constant whose comment says where the number comes from, collected
in the frozen :class:`Limits`, checked on construction. Exceeding a limit raises
:class:`~webcast_proto.RemoteProtocolError` naming the limit and the value, never ``MemoryError`` or
a silent cut (STYLE.md §7).

:class:`Endpoints` holds every host the library talks to (SPEC.md §2.1, §2.6), so tests and the mock
server can point everything at 127.0.0.1. :class:`ClientParams` holds what the client says about
itself: the query params of HTTP requests (SPEC.md §3.2) and of the WebSocket URL (§3.3), and the
default headers and cookie (§3.4). Nothing here is random: values the peers randomise (device id,
screen, location, ``last_rtt``) are inputs, chosen by the transport or the user.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from webcast_proto._checks import CONTROL_CHARS, check_base_url, check_url, merge_headers

__all__ = [
    "DEFAULT_CLIENT_PARAMS",
    "DEFAULT_ENDPOINTS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_DEDUP_WINDOW",
    "DEFAULT_MAX_FRAME_HEADERS",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_MAX_HTTP_BODY_SIZE",
    "DEFAULT_MAX_JSON_DEPTH",
    "DEFAULT_MAX_MESSAGES_PER_FRAME",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_PENDING_BYTES",
    "DEFAULT_MAX_ROUTE_PARAMS",
    "DEFAULT_SIGN_SERVER_URL",
    "DEFAULT_USER_AGENT",
    "DEFAULT_WEBCAST_URL",
    "DEFAULT_WEB_URL",
    "LOCATION_PRESETS",
    "SCREEN_PRESETS",
    "ClientParams",
    "Endpoints",
    "Limits",
    "LocationPreset",
    "make_device_id",
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

# A push frame carries 3 headers (compress_type, im-cursor, im-internal_ext, SPEC.md §4.2). Each header
# is an object upb builds, and an empty one takes 2 bytes on the wire: without a count, a 4 MiB frame of
# them would make upb build 2 million (~110 MB). 64 is 20x headroom.
DEFAULT_MAX_FRAME_HEADERS = 64

# A fetch result's route_params (SPEC.md §6.1) hold 3 entries (imprp, wrss, im_path), each becoming a
# WebSocket URL param. Without a count, 8 MiB of distinct small keys would make upb build a million
# map entries (~300 MB). 1024 entries cost nothing to hold, and a bound that high lets the codec skip
# the count for nearly every real fetch result: it walks one only if the result holds the entries'
# tag byte (":", frequent in URLs) more than 1024 times.
DEFAULT_MAX_ROUTE_PARAMS = 1024

# One message (BaseProtoMessage envelope with its payload) is ~0.3-3 KiB; gifts with their gift
# struct reach ~10 KiB. A payload is parsed only under this size: an empty repeated entry takes 2 bytes
# on the wire and becomes an object upb builds (~130 bytes), so 8 MiB of empty chat emotes made one
# chat cost ~530 MB. At 256 KiB the worst case is ~17 MB, and no real message comes near.
DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024

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
        max_frame_headers: most headers one push frame may carry.
        max_route_params: most ``route_params`` entries one fetch result may carry.
        max_message_size: largest message (envelope and payload) whose payload is parsed; a larger
            one becomes a ``ProtocolWarning`` in its place.
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
    max_frame_headers: int = DEFAULT_MAX_FRAME_HEADERS
    max_route_params: int = DEFAULT_MAX_ROUTE_PARAMS
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
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


# --------------------------------------------------------------------------------------------
# Endpoints (SPEC.md §2.1, §2.6)
# --------------------------------------------------------------------------------------------

# [TL] `tiktok_app_url`, [C2] `TIKTOK_HOST_WEB`: the live page and the room-id API.
DEFAULT_WEB_URL = "https://www.tiktok.com"
# [TL] `tiktok_webcast_url`, [C2] `TIKTOK_HOST_WEBCAST`: room info, gifts, im/fetch, chat.
DEFAULT_WEBCAST_URL = "https://webcast.tiktok.com/webcast"
# Euler Stream, the sign server of both current peers (SPEC.md §2.6).
DEFAULT_SIGN_SERVER_URL = "https://api.eulerstream.com"

_WS_SCHEMES = frozenset({"ws", "wss"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Every host and base URL the library talks to; all overridable (e.g. to a loopback mock).

    Base URLs are stored without a trailing slash; the builders append paths such as
    ``/webcast/room/info/`` which keep their own trailing slash (SPEC.md §2.1).

    Args:
        web: the TikTok website: the live page and the room-id API (``/api-live/user/room/``).
        webcast: the WebCast API base, path included: room info, gift list, im/fetch, chat.
        sign_server: the sign server (Euler Stream, SPEC.md §2.6).
        push_server: when set, replaces the ``push_server`` a fetch result offers (``ws://`` or
            ``wss://``); ``None`` uses the offered one.

    Raises:
        ValueError: if a URL is not absolute, has the wrong scheme, a fragment, a query (bases only)
            or embedded credentials.
    """

    web: str = DEFAULT_WEB_URL
    webcast: str = DEFAULT_WEBCAST_URL
    sign_server: str = DEFAULT_SIGN_SERVER_URL
    push_server: str | None = None

    def __post_init__(self) -> None:
        for name in ("web", "webcast", "sign_server"):
            object.__setattr__(self, name, check_base_url("Endpoints", name, getattr(self, name)))
        if self.push_server is not None:
            # A full URL (its path keeps its trailing slash, SPEC.md §2.1), not a base.
            check_url("Endpoints", "push_server", self.push_server, _WS_SCHEMES)

    @classmethod
    def from_base_url(cls, base_url: str, *, push_server: str | None = None) -> Endpoints:
        """Every endpoint on one server, e.g. the mock server on loopback.

        The paths of the three roles do not collide (``/@user/live``, ``/api-live/…`` for the website;
        ``/webcast/room/…``, ``/webcast/im/fetch/`` … for WebCast; ``/webcast/fetch``,
        ``/webcast/sign_url`` … for the sign server), so one base URL can serve them all.

        Args:
            base_url: e.g. ``"http://127.0.0.1:8080"``.
            push_server: optional ``ws://`` override of the offered push server.

        Returns:
            Endpoints with ``web`` and ``sign_server`` equal to ``base_url`` and ``webcast`` at
            ``base_url + "/webcast"``.

        Raises:
            ValueError: if ``base_url`` is not a valid http(s) base URL.
        """
        base = check_base_url("Endpoints", "base_url", base_url)
        return cls(web=base, webcast=f"{base}/webcast", sign_server=base, push_server=push_server)


DEFAULT_ENDPOINTS = Endpoints()


# --------------------------------------------------------------------------------------------
# Client params (SPEC.md §3)
# --------------------------------------------------------------------------------------------

# [C2]'s default preset UA (SPEC.md §3.1); [TL] picks one at random per process.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36 Edg/128.0.2739.79"
)


@dataclass(frozen=True, slots=True)
class LocationPreset:
    """A location the current peers present (SPEC.md §3.1): language, ``lang_country``, country, tz."""

    language: str
    browser_language: str
    region: str
    tz_name: str


# SPEC.md §3.1: [C2]'s default first, then the list [TL] picks from at random.
LOCATION_PRESETS: tuple[LocationPreset, ...] = (
    LocationPreset("en", "en-DE", "DE", "Europe/Berlin"),
    LocationPreset("en", "en-GB", "GB", "Europe/London"),
    LocationPreset("en", "en-CA", "CA", "America/Toronto"),
    LocationPreset("en", "en-AU", "AU", "Australia/Sydney"),
    LocationPreset("en", "en-NZ", "NZ", "Pacific/Auckland"),
    LocationPreset("en", "en-ZA", "ZA", "Africa/Johannesburg"),
    LocationPreset("en", "en-IE", "IE", "Europe/Dublin"),
    LocationPreset("en", "en-JM", "JM", "America/Jamaica"),
    LocationPreset("en", "en-BZ", "BZ", "America/Belize"),
    LocationPreset("en", "en-TT", "TT", "America/Port_of_Spain"),
)

# SPEC.md §3.1 (width, height); [C2]'s default 1920×1080 first.
SCREEN_PRESETS: tuple[tuple[int, int], ...] = (
    (1920, 1080),
    (2560, 1440),
    (3840, 2160),
    (4096, 2160),
    (5120, 2880),
    (7680, 4320),
    (1152, 2048),
    (1440, 2560),
    (2160, 3840),
    (4320, 7680),
)

_DEVICE_ID_DIGITS = 19  # [C2]: 19 random digits, once per client (SPEC.md §3.2)


def make_device_id(entropy: bytes) -> str:
    """Turn random bytes from the caller into a 19-digit ``device_id`` as [C2] sends (SPEC.md §3.2).

    The core has no randomness of its own: the transport passes e.g. ``os.urandom(8)``.

    Args:
        entropy: at least 8 random bytes.

    Returns:
        A decimal string of exactly 19 digits, not starting with ``0``.

    Raises:
        ValueError: if fewer than 8 bytes are given.
    """
    if len(entropy) < 8:
        raise ValueError(f"make_device_id needs at least 8 random bytes, got {len(entropy)}")
    low = 10 ** (_DEVICE_ID_DIGITS - 1)
    return str(low + int.from_bytes(entropy[:8], "big") % (9 * low))


def _frozen_str_mapping(owner: str, name: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{owner}.{name} must be a mapping of str to str, got {type(value).__name__}")
    copy: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValueError(f"{owner}.{name} must map str to str, got a {type(item).__name__} at {key!r}")
        if not key or CONTROL_CHARS.search(key) or CONTROL_CHARS.search(item):
            raise ValueError(f"{owner}.{name}[{key!r}] must be non-empty and free of control characters")
        copy[key] = item
    # An empty one is shared: a process may hold thousands of clients' parameters, most with no extra
    # headers or query (a dict and its read-only view, ~0.1 KiB each).
    return types.MappingProxyType(copy) if copy else _EMPTY_MAPPING


_EMPTY_MAPPING: Final[Mapping[str, str]] = types.MappingProxyType({})


def _empty_mapping() -> Mapping[str, str]:
    return _EMPTY_MAPPING


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientParams:
    """What the client says about itself: query params, WebSocket params, headers, default cookie.

    Defaults are [C2]'s fixed preset (SPEC.md §3.1: en-DE / DE / Europe/Berlin, 1920×1080, a macOS
    Edge UA). Every value is overridable; ``extra_*`` mappings add keys or replace ours. Browser name,
    version, platform and OS are derived from ``user_agent`` unless given (SPEC.md §3.1).

    Args:
        user_agent: the browser UA, sent as ``User-Agent`` and split into the ``browser_*`` params.
        browser_name: ``None`` derives the text before the first ``/`` of the UA (``Mozilla``).
        browser_version: ``None`` derives the rest of the UA after that ``/``.
        browser_platform: ``None`` derives ``MacIntel`` for a Macintosh UA, else ``Win32``.
        os: ``None`` derives ``mac`` or ``windows`` the same way.
        language: ``app_language`` and ``webcast_language`` (``en``).
        browser_language: ``browser_language``, the preset's ``lang_country`` (``en-DE``).
        region: ``region`` and ``priority_region`` (``DE``).
        tz_name: ``tz_name`` (``Europe/Berlin``).
        screen_width: ``screen_width`` in pixels.
        screen_height: ``screen_height`` in pixels.
        device_id: decimal ``device_id``; ``""`` leaves it out. The peers make it up at random
            (SPEC.md §3.2), so the transport passes one (see :func:`make_device_id`).
        history_len: ``history_len`` (browser history length; [C2] 10).
        from_page: ``from_page`` ([C2] ``user``).
        device_platform: ``device_platform`` of HTTP requests ([C2]/[TL] ``web_pc``; the
            WebSocket always says ``web``, SPEC.md §3.3).
        user_is_login: ``user_is_login``; [TL] sends ``true`` once a session is set. The chat
            builder sends ``true`` regardless, since it always carries a session.
        referer: the ``referer`` param and ``Referer`` header.
        origin: the ``Origin`` header.
        root_referer: the ``root_referer`` param.
        accept_language: the ``Accept-Language`` header.
        tt_target_idc: the default ``tt-target-idc`` cookie (SPEC.md §3.4; the account data centre).
        ws_direct: WebSocket ``ws_direct`` ([C2] 0, [TL] 1).
        heartbeat_duration: WebSocket ``heartbeat_duration`` ([C2] 0, [TL] 10000).
        last_rtt: WebSocket ``last_rtt``; both peers send a random 100-200, so a caller wanting
            variety passes one.
        ws_user_agent_param: add the UA as the WebSocket query param ``User-Agent`` ([C2]).
        extra_params: added to (or replacing) the HTTP query params.
        extra_ws_params: added to (or replacing) the WebSocket params.
        extra_headers: added to (or replacing) the default HTTP headers.

    Raises:
        ValueError: on a control character in any text, a non-positive screen size, a negative
            ``history_len`` or a ``device_id`` that is not decimal digits.
    """

    user_agent: str = DEFAULT_USER_AGENT
    browser_name: str | None = None
    browser_version: str | None = None
    browser_platform: str | None = None
    os: str | None = None
    language: str = "en"
    browser_language: str = "en-DE"
    region: str = "DE"
    tz_name: str = "Europe/Berlin"
    screen_width: int = 1920
    screen_height: int = 1080
    device_id: str = ""
    history_len: int = 10
    from_page: str = "user"
    device_platform: str = "web_pc"
    user_is_login: bool = False
    referer: str = "https://www.tiktok.com/"
    origin: str = "https://www.tiktok.com"
    root_referer: str = "https://www.tiktok.com/"
    accept_language: str = "en-US,en;q=0.9"
    tt_target_idc: str = "useast1a"
    ws_direct: int = 0
    heartbeat_duration: int = 0
    last_rtt: int = 150
    ws_user_agent_param: bool = True
    # Read-only copies; left out of hash() (equal objects still hash equal).
    extra_params: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    extra_ws_params: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    extra_headers: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name.startswith("extra_"):
                object.__setattr__(self, name, _frozen_str_mapping("ClientParams", name, value))
            elif isinstance(value, str) and CONTROL_CHARS.search(value):
                raise ValueError(f"ClientParams.{name} must not contain control characters")
        for name in ("screen_width", "screen_height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"ClientParams.{name} must be a positive int, got {value!r}")
        for name in ("history_len", "ws_direct", "heartbeat_duration", "last_rtt"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"ClientParams.{name} must be an int >= 0, got {value!r}")
        if self.device_id and not self.device_id.isdecimal():
            raise ValueError(f"ClientParams.device_id must be decimal digits, got {self.device_id!r}")
        if not self.user_agent:
            raise ValueError("ClientParams.user_agent must not be empty")

    def with_location(self, preset: LocationPreset) -> ClientParams:
        """A copy presenting ``preset``'s language, ``lang_country``, region and time zone.

        Args:
            preset: e.g. one of :data:`LOCATION_PRESETS`.

        Returns:
            The new params (this object is unchanged).
        """
        return replace(
            self,
            language=preset.language,
            browser_language=preset.browser_language,
            region=preset.region,
            tz_name=preset.tz_name,
        )

    def _browser(self) -> tuple[str, str, str, str]:
        """``(browser_name, browser_version, browser_platform, os)``, derived per SPEC.md §3.1."""
        ua_name, _, ua_version = self.user_agent.partition("/")
        is_mac = "Macintosh" in self.user_agent
        return (
            ua_name if self.browser_name is None else self.browser_name,
            ua_version if self.browser_version is None else self.browser_version,
            ("MacIntel" if is_mac else "Win32") if self.browser_platform is None else self.browser_platform,
            ("mac" if is_mac else "windows") if self.os is None else self.os,
        )

    def http_query_items(self) -> tuple[tuple[str, str], ...]:
        """The client params of every HTTP request, unencoded, in order (SPEC.md §3.2, current peers).

        ``room_id``, ``cursor`` and the like are added by each request builder.

        Returns:
            ``(key, value)`` pairs, then :attr:`extra_params` (which replace ours on a clash).
        """
        name, version, platform, os_name = self._browser()
        items: dict[str, str] = {
            "aid": "1988",
            "app_language": self.language,
            "app_name": "tiktok_web",
            "browser_language": self.browser_language,
            "browser_name": name,
            "browser_online": "true",
            "browser_platform": platform,
            "browser_version": version,
            "channel": "tiktok_web",
            "cookie_enabled": "true",
            "data_collection_enabled": "true",
            "device_id": self.device_id,
            "device_platform": self.device_platform,
            "focus_state": "true",
            "from_page": self.from_page,
            "history_len": str(self.history_len),
            "is_fullscreen": "false",
            "is_page_visible": "true",
            "os": os_name,
            "priority_region": self.region,
            "referer": self.referer,
            "region": self.region,
            "root_referer": self.root_referer,
            "screen_height": str(self.screen_height),
            "screen_width": str(self.screen_width),
            "tz_name": self.tz_name,
            "user_is_login": "true" if self.user_is_login else "false",
            "webcast_language": self.language,
        }
        if not self.device_id:
            del items["device_id"]
        items.update(self.extra_params)
        return tuple(items.items())

    def ws_query_items(self) -> tuple[tuple[str, str], ...]:
        """The WebSocket params, unencoded, in order (SPEC.md §3.3; identical in [C2] and [TL]).

        ``room_id``, ``compress``, cursor, route params and the trailing ``version_code`` are added by
        :func:`webcast_proto.http.build_websocket_url`.

        Returns:
            ``(key, value)`` pairs, then :attr:`extra_ws_params` (which replace ours on a clash).
        """
        name, version, platform, _ = self._browser()
        items: dict[str, str] = {
            "version_code": "180800",
            "aid": "1988",
            "app_language": self.language,
            "app_name": "tiktok_web",
            "browser_platform": platform,
            "browser_language": self.browser_language,
            "browser_name": name,
            "browser_version": version,
            "browser_online": "true",
            "cookie_enabled": "true",
            "tz_name": self.tz_name,
            "device_platform": "web",
            "identity": "audience",
            "live_id": "12",
            "webcast_language": self.language,
            "sup_ws_ds_opt": "1",
            "update_version_code": "2.0.0",
            "did_rule": "3",
            "screen_height": str(self.screen_height),
            "screen_width": str(self.screen_width),
            "resp_content_type": "protobuf",
            "history_comment_count": "6",
            "client_enter": "1",
            "ws_direct": str(self.ws_direct),
            "heartbeat_duration": str(self.heartbeat_duration),
            "last_rtt": str(self.last_rtt),
        }
        if self.ws_user_agent_param:
            items["User-Agent"] = self.user_agent
        items.update(self.extra_ws_params)
        return tuple(items.items())

    def http_headers(self) -> tuple[tuple[str, str], ...]:
        """The default headers of every HTTP request to TikTok (SPEC.md §3.4, current peers).

        Returns:
            ``(name, value)`` pairs, then :attr:`extra_headers` (which replace ours, case-insensitively).
        """
        headers = (
            ("Connection", "keep-alive"),
            ("Cache-Control", "max-age=0"),
            ("User-Agent", self.user_agent),
            ("Accept", "text/html,application/json,application/protobuf"),
            ("Referer", self.referer),
            ("Origin", self.origin),
            ("Accept-Language", self.accept_language),
            ("Accept-Encoding", "gzip, deflate"),
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "cors"),
            ("Sec-Fetch-Dest", "empty"),
            ("Sec-Fetch-Ua-Mobile", "?0"),
        )
        return merge_headers(headers, tuple(self.extra_headers.items()))

    def default_cookies(self) -> dict[str, str]:
        """The cookie every request starts with: ``tt-target-idc`` (SPEC.md §3.4)."""
        return {"tt-target-idc": self.tt_target_idc} if self.tt_target_idc else {}


DEFAULT_CLIENT_PARAMS = ClientParams()
