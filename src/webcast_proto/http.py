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

The code lives in private modules by concern, and this module re-exports their public names, so
depend on ``webcast_proto.http`` and not on the split: ``_http_common`` (request and response
values, the envelope checks, cookie and URL helpers), ``_room_lookup`` (live page and room-id API
routes), ``_webcast_api`` (room info, live check, gifts, im/fetch, send chat) and ``_websocket``
(push-server URL, upgrade headers, handshake answer).
"""

from __future__ import annotations

from webcast_proto._http_common import (
    SESSION_COOKIE_NAMES,
    Request,
    Response,
    RoomStatus,
    cookie_header,
    normalize_unique_id,
    parse_retry_after,
)
from webcast_proto._room_lookup import (
    API_ROUTE,
    DEFAULT_ROOM_ID_ROUTES,
    LEGACY_LIVE_PAGE_ROUTE,
    LIVE_PAGE_ROUTE,
    SIGI_STATE_PATTERN,
    LegacyLivePageRoute,
    LivePageRoute,
    RoomIdApiRoute,
    RoomIdRoute,
    RoomLookup,
    build_live_page_request,
    build_room_id_api_request,
    parse_live_page,
    parse_live_page_legacy,
    parse_room_id_api_response,
)
from webcast_proto._webcast_api import (
    ChatSent,
    RoomInfo,
    RoomOwner,
    build_check_alive_request,
    build_fetch_request,
    build_gift_list_request,
    build_room_info_request,
    build_send_chat_request,
    parse_check_alive_response,
    parse_fetch_response,
    parse_gift_list_response,
    parse_room_info_response,
    parse_send_chat_response,
)
from webcast_proto._websocket import (
    DEFAULT_PING_INTERVAL,
    HandshakeInfo,
    build_websocket_headers,
    build_websocket_url,
    parse_handshake_options,
    parse_handshake_response,
    ping_interval,
)

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
