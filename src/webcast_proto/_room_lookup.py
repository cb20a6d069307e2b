"""Finding a user's room id (SPEC.md §2.1, §2.2): the live page and the room-id API, as routes.

Three ways, each a request builder and a parser returning a :class:`RoomLookup`: the live page's
``SIGI_STATE`` JSON (current), the same page by the old regexes of [S]/[V1], and the
``api-live/user/room`` JSON. A :class:`RoomIdRoute` pairs builder and parser so the transport can walk
:data:`DEFAULT_ROOM_ID_ROUTES` (or its own sequence, e.g. ending with the sign server's route from
:mod:`webcast_proto.signing`), falling back to the next route on an :class:`~webcast_proto.HTTPError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from webcast_proto._errors import APIError, CaptchaRequired, UnexpectedResponse, UserNotFound, UserOffline
from webcast_proto._http_common import (
    Request,
    Response,
    RoomStatus,
    as_int,
    as_str,
    build_url,
    check_size,
    http_headers,
    json_get,
    load_json_object,
    normalize_unique_id,
    parse_json,
    quote_text,
    raise_for_status,
    unique_id_path,
    who,
)
from webcast_proto.config import DEFAULT_LIMITS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.config import ClientParams, Endpoints, Limits

__all__ = [
    "API_ROUTE",
    "DEFAULT_ROOM_ID_ROUTES",
    "LEGACY_LIVE_PAGE_ROUTE",
    "LIVE_PAGE_ROUTE",
    "SIGI_STATE_PATTERN",
    "LegacyLivePageRoute",
    "LivePageRoute",
    "RoomIdApiRoute",
    "RoomIdRoute",
    "RoomLookup",
    "build_live_page_request",
    "build_room_id_api_request",
    "parse_live_page",
    "parse_live_page_legacy",
    "parse_room_id_api_response",
]


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


# SPEC.md §2.2: the content of the SIGI_STATE script, non-greedy. Attribute order and quoting vary
# between page versions, so only `id` is required ([C2] makes this pattern overridable too).
SIGI_STATE_PATTERN: Final = re.compile(
    r"""<script\b[^<>]*\bid\s*=\s*["']SIGI_STATE["'][^<>]*>(.*?)</script>""", re.DOTALL | re.IGNORECASE
)
# The default pattern in two linear steps. As one regex, a page with many opening tags and no
# closing one makes the engine rescan the rest of the page from each tag: quadratic in the page size
# (found by review of the fuzz targets: 160 KB of "<script " took 26 s).
_SIGI_STATE_OPEN: Final = re.compile(
    r"""<script\b[^<>]*\bid\s*=\s*["']SIGI_STATE["'][^<>]*>""", re.IGNORECASE
)
_SCRIPT_CLOSE: Final = re.compile(r"</script>", re.IGNORECASE)


def _sigi_state_text(html: str, pattern: re.Pattern[str]) -> str | None:
    """Group 1 of ``pattern`` in ``html``; for the default pattern, the same text found in linear time."""
    if pattern is not SIGI_STATE_PATTERN:
        match = pattern.search(html)
        return None if match is None else match.group(1)
    opening = _SIGI_STATE_OPEN.search(html)
    if opening is None:
        return None
    closing = _SCRIPT_CLOSE.search(html, opening.end())
    return None if closing is None else html[opening.end() : closing.start()]


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
    url = build_url(endpoints.web, f"/@{unique_id_path(unique_id)}/live", items)
    return Request("GET", url, http_headers(client_params, cookies, extra_headers))


def _decode_html(response: Response, limits: Limits, what: str) -> str:
    check_size(response, limits, what)
    raise_for_status(response, what)
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
    text = _sigi_state_text(html, pattern)
    if text is None:
        raise CaptchaRequired(
            f"{what}: no SIGI_STATE script; you might be blocked by TikTok", status_code=status
        )
    state = parse_json(text, limits=limits, what=what, error=CaptchaRequired, status_code=status)
    if not isinstance(state, dict):
        raise CaptchaRequired(
            f"{what}: SIGI_STATE is not a JSON object (captcha-blocked?)", status_code=status
        )
    live_room = state.get("LiveRoom")
    if not isinstance(live_room, dict):
        raise UserNotFound(
            f"{what}: no LiveRoom for {who(unique_id)} (no such user, or one who cannot go live)",
            status_code=status,
        )
    info = json_get(live_room, "liveRoomUserInfo")
    user = json_get(info, "user")
    room_id = as_int(json_get(user, "roomId"))
    if not room_id:
        raise UnexpectedResponse(f"{what}: LiveRoom has no liveRoomUserInfo.user.roomId", status_code=status)
    room_status = as_int(json_get(info, "liveRoom", "status"))
    if room_status is None:
        room_status = as_int(json_get(user, "status"))
    return RoomLookup(
        room_id=room_id,
        unique_id=as_str(json_get(user, "uniqueId")) or unique_id,
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
        build_url(endpoints.web, _ROOM_ID_API_PATH, items),
        http_headers(client_params, cookies, extra_headers),
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
    body = load_json_object(response, limits=limits, what=what)
    status = response.status_code
    code = as_int(body.get("statusCode", 0))
    message = as_str(body.get("message"))
    if code == _USER_NOT_FOUND or message == "user_not_found":
        raise UserNotFound(
            f"{what}: {who(unique_id)} not found (API {code}, {quote_text(message)!r})", status_code=status
        )
    if code:
        raise APIError(f"{what}: API error {code} ({quote_text(message)})", api_code=code, status_code=status)
    user = json_get(body, "data", "user")
    room_id = as_int(json_get(user, "roomId"))
    if not room_id:
        raise UnexpectedResponse(f"{what}: no data.user.roomId in the answer", status_code=status)
    room_status = as_int(json_get(body, "data", "liveRoom", "status"))
    return RoomLookup(
        room_id=room_id,
        unique_id=as_str(json_get(user, "uniqueId")) or unique_id,
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
