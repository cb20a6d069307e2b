"""Request builders and response parsers of TikTok's HTTP API (SPEC.md §1, §2, §3, §9, §10)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import pytest

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
from webcast_proto.config import DEFAULT_LIMITS, DEFAULT_USER_AGENT, ClientParams, Endpoints, Limits
from webcast_proto.events import GiftInfo
from webcast_proto.http import (
    API_ROUTE,
    DEFAULT_PING_INTERVAL,
    DEFAULT_ROOM_ID_ROUTES,
    LEGACY_LIVE_PAGE_ROUTE,
    LIVE_PAGE_ROUTE,
    LivePageRoute,
    Request,
    Response,
    RoomIdRoute,
    RoomInfo,
    RoomLookup,
    RoomStatus,
    build_check_alive_request,
    build_fetch_request,
    build_gift_list_request,
    build_live_page_request,
    build_room_id_api_request,
    build_room_info_request,
    build_send_chat_request,
    build_websocket_headers,
    build_websocket_url,
    cookie_header,
    normalize_unique_id,
    parse_check_alive_response,
    parse_fetch_response,
    parse_gift_list_response,
    parse_handshake_options,
    parse_handshake_response,
    parse_live_page,
    parse_live_page_legacy,
    parse_retry_after,
    parse_room_id_api_response,
    parse_room_info_response,
    parse_send_chat_response,
    ping_interval,
)

if TYPE_CHECKING:
    from collections.abc import Callable

ENDPOINTS = Endpoints()
PARAMS = ClientParams(device_id="7212345678901234567")
ROOM_ID = 7448811992334045998
PUSH_SERVER = "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/"


def ok(body: bytes | str, *headers: tuple[str, str], status: int = 200) -> Response:
    """A response with ``body`` (text is UTF-8 encoded)."""
    return Response(status, headers, body.encode() if isinstance(body, str) else body)


def ok_json(value: object, *headers: tuple[str, str], status: int = 200) -> Response:
    return ok(json.dumps(value), ("Content-Type", "application/json"), *headers, status=status)


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# --------------------------------------------------------------------------------------------
# Realistic bodies (shapes of SPEC.md §2.2, §2.3, §10)
# --------------------------------------------------------------------------------------------


def sigi_state(*, live_room: object = None, room_status: int | None = 2, user_status: int | None = 2) -> str:
    user: dict[str, object] = {
        "id": "6812345678901234567",
        "uniqueId": "someone",
        "nickname": "Some One",
        "roomId": str(ROOM_ID),
    }
    if user_status is not None:
        user["status"] = user_status
    info: dict[str, object] = {"user": user, "stats": {"followerCount": 1234}}
    if room_status is not None:
        info["liveRoom"] = {"status": room_status, "title": "hello </ world", "coverUrl": "https://p16/x.jpg"}
    state = {
        "AppContext": {"appContext": {"language": "en", "region": "DE"}},
        "SEO": {"metaParams": {"title": "Some One LIVE"}},
        "LiveRoom": {"liveRoomUserInfo": info, "loadingState": {"getRecommendLive": 1}}
        if live_room is None
        else live_room,
    }
    if live_room == "absent":
        del state["LiveRoom"]
    return json.dumps(state, separators=(",", ":"))  # pages embed compact JSON


def live_page(script: str, *, attrs: str = 'id="SIGI_STATE" type="application/json"') -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>'
        '<meta property="og:url" content="https://www.tiktok.com/@someone/live"/>'
        "<title>Some One is LIVE - TikTok LIVE</title>"
        '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
        '{"__DEFAULT_SCOPE__":{}}</script>'
        f"<script {attrs}>{script}</script>"
        '</head><body><div id="app"></div></body></html>'
    )


def room_info_body(status: int = 2, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": ROOM_ID,
        "id_str": str(ROOM_ID),
        "status": status,
        "title": "Friday stream",
        "create_time": 1734567890,
        "user_count": 321,
        "owner": {
            "id": 6812345678901234567,
            "id_str": "6812345678901234567",
            "display_id": "someone",
            "nickname": "Some One",
            "bio_description": "hi",
            "avatar_thumb": {"url_list": ["https://p16-sign/avatar.webp", "https://p77/avatar.jpeg"]},
        },
        "stream_url": {
            "hls_pull_url": "https://pull-hls-f16.tiktokcdn.com/stage/stream-123/index.m3u8",
            "live_core_sdk_data": {"pull_data": {"stream_data": '{"data":{"origin":{"main":{}}}}'}},
        },
        **extra,
    }
    return {"data": data, "extra": {"now": 1734567999000}, "status_code": 0}


GIFT_LIST = {
    "data": {
        "doodle_templates": [],
        "gifts": [
            {
                "id": 5655,
                "name": "Rose",
                "diamond_count": 1,
                "type": 1,
                "describe": "sent Rose",
                "image": {"url_list": ["https://p19-webcast.tiktokcdn.com/rose.png"], "uri": "webcast/rose"},
                "combo": True,
            },
            {"id": "6064", "name": "GG", "diamond_count": 1, "image": {"url_list": []}},
        ],
    },
    "extra": {"log_id": "2024"},
    "status_code": 0,
}

CAPTCHA_PAGE = (
    "<!DOCTYPE html><html><head><title>Security Check</title></head>"
    '<body><div id="captcha_container"></div></body></html>'
)


# --------------------------------------------------------------------------------------------
# Response and Request
# --------------------------------------------------------------------------------------------


def test_response_header_lookup_is_case_insensitive() -> None:
    """``Response.header`` finds the first header of that name in any case, else ``None``."""
    response = Response(200, (("Retry-After", "3"), ("retry-after", "4")))
    assert response.header("RETRY-AFTER") == "3"
    assert response.header("x-missing") is None


def test_response_repr_redacts_cookie_headers_and_hides_the_body() -> None:
    """Set-Cookie and X-Set-TT-Cookie may carry sessions: repr shows neither them nor the body."""
    response = Response(
        200, (("Set-Cookie", "sessionid=abc"), ("X-Set-TT-Cookie", "ttwid=t")), b"secret body"
    )
    shown = repr(response)
    assert "abc" not in shown
    assert "ttwid" not in shown
    assert "secret body" not in shown
    assert "<11 bytes>" in shown


def test_request_repr_redacts_cookie_and_key_headers() -> None:
    """Request's repr keeps its redaction of Cookie and sign-server key headers."""
    request = Request("GET", "https://x/", (("Cookie", "sessionid=abc"), ("X-Api-Key", "k3y")))
    assert "abc" not in repr(request)
    assert "k3y" not in repr(request)
    assert request.header("cookie") == "sessionid=abc"


# --------------------------------------------------------------------------------------------
# normalize_unique_id, cookies
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "someone",
        "@someone",
        "  @someone  ",
        "https://www.tiktok.com/@someone/live",
        "https://www.tiktok.com/@someone/live?lang=en",
        "www.tiktok.com/@someone",
        "tiktok.com/@someone/",
    ],
)
def test_normalize_unique_id_strips_site_live_and_at(typed: str) -> None:
    """SPEC.md §1 step 1: strip the site prefix, ``/live``, the first ``@``, and trim."""
    assert normalize_unique_id(typed) == "someone"


@pytest.mark.parametrize("typed", ["", "  ", "@", "some one", "a/b", "https://www.tiktok.com/"])
def test_normalize_unique_id_rejects_what_is_not_a_username(typed: str) -> None:
    """Nothing left, or a leftover slash or space, is a ValueError rather than a wrong URL."""
    with pytest.raises(ValueError, match="username"):
        normalize_unique_id(typed)


def test_cookie_header_joins_pairs_and_refuses_injection_without_echoing_values() -> None:
    """Cookies join as ``a=1; b=2``; a value with ``;`` is refused and the message names only the cookie."""
    assert cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"
    with pytest.raises(ValueError, match="'sessionid'") as info:
        cookie_header({"sessionid": "abc; admin=1"})
    assert "abc" not in str(info.value)
    with pytest.raises(ValueError, match="cookie name"):
        cookie_header({"bad name": "1"})


# --------------------------------------------------------------------------------------------
# Shared failure modes of every JSON parser (SPEC.md §2.6, §9)
# --------------------------------------------------------------------------------------------

JSON_PARSERS: dict[str, Callable[[Response, Limits], object]] = {
    "room_id_api": lambda r, limits: parse_room_id_api_response(r, unique_id="someone", limits=limits),
    "room_info": lambda r, limits: parse_room_info_response(r, limits=limits),
    "check_alive": lambda r, limits: parse_check_alive_response(r, limits=limits),
    "gift_list": lambda r, limits: parse_gift_list_response(r, limits=limits),
    "send_chat": lambda r, limits: parse_send_chat_response(r, limits=limits),
}
every_json_parser = pytest.mark.parametrize("parse", list(JSON_PARSERS.values()), ids=list(JSON_PARSERS))


@every_json_parser
@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("Retry-After", "30", 30.0),
        ("x-ratelimit-reset", "12", 12.0),
        ("RateLimit-Reset", "7.5", 7.5),
        ("RateLimit-Remaining", "0", None),
        ("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("X-RateLimit-Reset", "1734567890", None),
    ],
)
def test_429_is_rate_limited_with_retry_after_from_the_headers(
    parse: Callable[[Response, Limits], object], header: str, value: str, expected: float | None
) -> None:
    """HTTP 429 → RateLimited; retry_after from Retry-After / X-RateLimit-Reset / RateLimit-Reset.

    RateLimit-Remaining (a request count), HTTP dates and epoch resets (no clock to convert) give None.
    """
    response = ok_json({"message": "Too many requests", "limit_label": "free"}, (header, value), status=429)
    with pytest.raises(RateLimited) as info:
        parse(response, DEFAULT_LIMITS)
    assert info.value.retry_after == expected
    assert info.value.status_code == 429
    assert info.value.retryable
    assert "Too many requests / free" in str(info.value)


def test_retry_after_prefers_the_standard_header() -> None:
    """With several hints, Retry-After wins; a garbage value falls through to the next header."""
    assert parse_retry_after(Response(429, (("RateLimit-Reset", "9"), ("Retry-After", "2")))) == 2.0
    assert parse_retry_after(Response(429, (("Retry-After", "soon"), ("RateLimit-Reset", "9")))) == 9.0
    assert parse_retry_after(Response(429, (("Retry-After", "-1"),))) is None
    assert parse_retry_after(Response(429, (("Retry-After", "nan"),))) is None


@every_json_parser
@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (404, False), (403, False)])
def test_error_status_is_http_status_error(
    parse: Callable[[Response, Limits], object], status: int, retryable: bool
) -> None:
    """Any non-2xx status but 429 → HTTPStatusError, retryable for 5xx only."""
    with pytest.raises(HTTPStatusError) as info:
        parse(ok("<html>Bad gateway</html>", status=status), DEFAULT_LIMITS)
    assert info.value.status_code == status
    assert info.value.retryable is retryable


@every_json_parser
@pytest.mark.parametrize(
    "response",
    [ok(CAPTCHA_PAGE), ok("  \n<html></html>"), ok("{}", ("Content-Type", "text/html; charset=utf-8"))],
    ids=["page", "leading-space", "content-type"],
)
def test_html_where_json_was_expected_is_unexpected_html(
    parse: Callable[[Response, Limits], object], response: Response
) -> None:
    """An HTML page (by body or Content-Type) where JSON was expected → UnexpectedHTML (SPEC.md §9).

    It is both an UnexpectedResponse and a CaptchaRequired, so either ``except`` catches it.
    """
    with pytest.raises(UnexpectedHTML):
        parse(response, DEFAULT_LIMITS)
    assert issubclass(UnexpectedHTML, CaptchaRequired)
    assert issubclass(UnexpectedHTML, UnexpectedResponse)


@every_json_parser
@pytest.mark.parametrize("body", [b"", b"  \r\n"])
def test_empty_body_is_captcha_required(parse: Callable[[Response, Limits], object], body: bytes) -> None:
    """An empty answer is the block sign of SPEC.md §9 → CaptchaRequired."""
    with pytest.raises(CaptchaRequired):
        parse(ok(body), DEFAULT_LIMITS)


@every_json_parser
@pytest.mark.parametrize(
    "body", [b'{"statusCode": 0, "data": ', b"{'single': 'quotes'}", b"\xff\xfe{}", b'["a", "list"]']
)
def test_malformed_json_is_unexpected_response(
    parse: Callable[[Response, Limits], object], body: bytes
) -> None:
    """Truncated or invalid JSON, non-UTF-8, or a non-object top level → UnexpectedResponse."""
    with pytest.raises(UnexpectedResponse) as info:
        parse(ok(body), DEFAULT_LIMITS)
    assert not isinstance(info.value, UnexpectedHTML)


@every_json_parser
def test_json_nested_past_the_limit_is_refused_before_parsing(
    parse: Callable[[Response, Limits], object],
) -> None:
    """JSON deeper than limits.max_json_depth → RemoteProtocolError naming the limit (no RecursionError)."""
    body = '{"data": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(RemoteProtocolError, match="max_json_depth"):
        parse(ok(body), DEFAULT_LIMITS)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """The depth check skips string contents (escaped quotes included)."""
    gifts = {"data": {"gifts": [{"id": 1, "name": '[[[[[[{{{{{{ \\" [[[[' * 20}]}, "status_code": 0}
    assert parse_gift_list_response(ok_json(gifts), limits=Limits(max_json_depth=4))[0].id == 1
    # GIFT_LIST nests 6 deep: data → gifts → [ → gift → image → url_list [.
    assert len(parse_gift_list_response(ok_json(GIFT_LIST), limits=Limits(max_json_depth=6))) == 2
    with pytest.raises(RemoteProtocolError, match=r"nested 6 deep exceeds Limits.max_json_depth \(5\)"):
        parse_gift_list_response(ok_json(GIFT_LIST), limits=Limits(max_json_depth=5))


@every_json_parser
def test_oversized_body_is_refused(parse: Callable[[Response, Limits], object]) -> None:
    """A body over limits.max_http_body_size → RemoteProtocolError naming the limit and the size."""
    with pytest.raises(
        RemoteProtocolError, match=r"body of 101 bytes exceeds Limits.max_http_body_size \(100\)"
    ):
        parse(ok(b"{" + b" " * 99 + b"}"), Limits(max_http_body_size=100))


# --------------------------------------------------------------------------------------------
# Room id: live page, SIGI_STATE (SPEC.md §2.2 current)
# --------------------------------------------------------------------------------------------


def test_live_page_request_is_a_bare_get_of_the_live_page() -> None:
    """[TL]/[V1]: ``GET {web}/@user/live`` with no query, the default headers and cookie."""
    request = build_live_page_request(endpoints=ENDPOINTS, client_params=PARAMS, unique_id="@someone")
    assert (request.method, request.url) == ("GET", "https://www.tiktok.com/@someone/live")
    assert request.header("User-Agent") == DEFAULT_USER_AGENT
    assert request.header("Cookie") == "tt-target-idc=useast1a"
    assert request.body == b""


def test_live_page_request_can_carry_client_params() -> None:
    """[C2] adds the client params as the query."""
    request = build_live_page_request(
        endpoints=ENDPOINTS, client_params=PARAMS, unique_id="someone", with_client_params=True
    )
    assert urlsplit(request.url).path == "/@someone/live"
    assert dict(query(request.url)) == dict(PARAMS.http_query_items())


def test_sigi_state_gives_room_id_username_and_live() -> None:
    """``LiveRoom.liveRoomUserInfo.user.roomId`` is the room; liveRoom.status 2 is live."""
    lookup = parse_live_page(ok(live_page(sigi_state())), unique_id="asked")
    assert lookup == RoomLookup(room_id=ROOM_ID, unique_id="someone", is_live=True, source="live_page")


def test_sigi_state_room_status_4_is_offline() -> None:
    """[C2]: ``liveRoom.status`` 4 → offline; the lookup says so instead of raising."""
    lookup = parse_live_page(ok(live_page(sigi_state(room_status=4, user_status=2))))
    assert lookup.is_live is False
    with pytest.raises(UserOffline, match="someone"):
        lookup.require_live()


def test_sigi_state_user_status_decides_without_live_room() -> None:
    """[TL]: without ``liveRoom``, ``user.status`` 4 → offline; without either, unknown."""
    assert parse_live_page(ok(live_page(sigi_state(room_status=None, user_status=4)))).is_live is False
    assert parse_live_page(ok(live_page(sigi_state(room_status=None, user_status=2)))).is_live is True
    lookup = parse_live_page(ok(live_page(sigi_state(room_status=None, user_status=None))))
    assert lookup.is_live is None
    assert lookup.require_live() is lookup


def test_sigi_state_tag_is_found_whatever_the_attribute_order() -> None:
    """The script is found by its id, with other attributes before or after it."""
    page = live_page(sigi_state(), attrs="type='application/json' id='SIGI_STATE' nonce=\"x\"")
    assert parse_live_page(ok(page)).room_id == ROOM_ID


def test_sigi_pattern_is_overridable() -> None:
    """Like [C2]'s extractionPattern, the route takes another pattern for the JSON text."""
    import re

    route = LivePageRoute(pattern=re.compile(r"<script id=\"STATE2\">(.*?)</script>", re.DOTALL))
    page = live_page(sigi_state(), attrs='id="STATE2"')
    assert route.parse_response(ok(page), unique_id="someone").room_id == ROOM_ID


def test_no_sigi_tag_is_captcha_required() -> None:
    """No SIGI_STATE script → "you might be blocked by TikTok" (CaptchaRequired)."""
    with pytest.raises(CaptchaRequired, match="blocked"):
        parse_live_page(ok(CAPTCHA_PAGE))


@pytest.mark.parametrize("script", ['{"LiveRoom": {', "[1, 2]"])
def test_bad_json_in_sigi_is_captcha_required(script: str) -> None:
    """Bad JSON (or not an object) in SIGI_STATE → "captcha-blocked?" (CaptchaRequired)."""
    with pytest.raises(CaptchaRequired):
        parse_live_page(ok(live_page(script)))


def test_empty_live_page_is_captcha_required() -> None:
    """An empty page → CaptchaRequired."""
    with pytest.raises(CaptchaRequired, match="empty"):
        parse_live_page(ok(b""))


def test_sigi_without_live_room_is_user_not_found() -> None:
    """[TL]: SIGI_STATE without ``LiveRoom`` → UserNotFound (no such user, or cannot go live)."""
    with pytest.raises(UserNotFound, match="@nobody"):
        parse_live_page(ok(live_page(sigi_state(live_room="absent"))), unique_id="nobody")


def test_sigi_without_room_id_is_unexpected_response() -> None:
    """``LiveRoom`` without ``roomId`` → a parse error (UnexpectedResponse)."""
    state = json.loads(sigi_state())
    del state["LiveRoom"]["liveRoomUserInfo"]["user"]["roomId"]
    with pytest.raises(UnexpectedResponse, match="roomId"):
        parse_live_page(ok(live_page(json.dumps(state))))


def test_deep_json_in_sigi_is_refused() -> None:
    """SIGI_STATE nested past the limit → RemoteProtocolError."""
    with pytest.raises(RemoteProtocolError, match="max_json_depth"):
        parse_live_page(ok(live_page('{"a":' + "[" * 100 + "]" * 100 + "}")))


@pytest.mark.parametrize("parse", [parse_live_page, parse_live_page_legacy])
def test_live_page_errors_by_status(parse: Callable[[Response], RoomLookup]) -> None:
    """The HTML parsers share the status and size rules: 429 RateLimited, 5xx HTTPStatusError, size."""
    with pytest.raises(RateLimited):
        parse(ok(b"", ("Retry-After", "1"), status=429))
    with pytest.raises(HTTPStatusError):
        parse(ok(b"oops", status=502))
    with pytest.raises(RemoteProtocolError):
        parse_live_page(ok(b"x" * 11), limits=Limits(max_http_body_size=10))


# --------------------------------------------------------------------------------------------
# Room id: live page, old regexes (SPEC.md §2.2 old)
# --------------------------------------------------------------------------------------------


def test_legacy_finds_room_id_near_an_occurrence() -> None:
    """At each ``roomId``, ``roomId":"<digits>"`` in the next 50 characters is the room id."""
    page = (
        '<script>window.x={"user":{"roomId":"","other":1},"live":{"roomId":"7448811992334045998"}}</script>'
    )
    assert parse_live_page_legacy(ok(page), unique_id="someone") == RoomLookup(
        room_id=ROOM_ID, unique_id="someone", is_live=None, source="live_page_legacy"
    )


def test_legacy_falls_back_to_room_id_param() -> None:
    """Without a ``roomId`` match, ``room_id=<digits>`` anywhere (e.g. in a link) is used."""
    page = f'<link rel="preload" href="https://webcast.tiktok.com/webcast/room/enter/?room_id={ROOM_ID}&a=1">'
    assert parse_live_page_legacy(ok(page)).room_id == ROOM_ID


def test_legacy_skips_room_id_zero() -> None:
    """A room id of 0 is no room: the next candidate is tried."""
    page = f'{{"roomId":"0"}} <a href="/x?room_id={ROOM_ID}">'
    assert parse_live_page_legacy(ok(page)).room_id == ROOM_ID


def test_legacy_no_match_with_og_url_is_user_offline() -> None:
    """No room id on a real profile page (``"og:url"``) → "User might be offline." (UserOffline)."""
    page = '<html><head><meta property="og:url" content="https://www.tiktok.com/@someone"/></head></html>'
    with pytest.raises(UserOffline, match="offline"):
        parse_live_page_legacy(ok(page))


def test_legacy_no_match_without_og_url_is_captcha_required() -> None:
    """No room id and no ``"og:url"`` → "IP or country might be blocked" (CaptchaRequired)."""
    with pytest.raises(CaptchaRequired, match="blocked"):
        parse_live_page_legacy(ok(CAPTCHA_PAGE))


# --------------------------------------------------------------------------------------------
# Room id: API route (SPEC.md §2.2)
# --------------------------------------------------------------------------------------------


def test_room_id_api_request_url() -> None:
    """``GET {web}/api-live/user/room/?{client params}&uniqueId=…&sourceType=54``."""
    request = build_room_id_api_request(endpoints=ENDPOINTS, client_params=PARAMS, unique_id="@someone")
    assert request.url.startswith("https://www.tiktok.com/api-live/user/room/?aid=1988&")
    assert request.url.endswith("&uniqueId=someone&sourceType=54")
    assert query(request.url)[:-2] == list(PARAMS.http_query_items())


def api_answer(status_code: int = 0, message: str = "", live_status: int | None = 2) -> dict[str, object]:
    data: dict[str, object] = {
        "user": {"id": "6812345678901234567", "uniqueId": "someone", "roomId": str(ROOM_ID), "status": 2},
    }
    if live_status is not None:
        data["liveRoom"] = {"status": live_status, "title": "hi", "liveRoomStats": {"userCount": 12}}
    return {"data": data, "extra": {"fatal_item_ids": []}, "message": message, "statusCode": status_code}


@pytest.mark.parametrize(("live_status", "is_live"), [(2, True), (4, False), (None, None)])
def test_room_id_api_success(live_status: int | None, is_live: bool | None) -> None:
    """``data.user.roomId`` is the room; ``data.liveRoom.status`` 4 is offline, 2 live, absent unknown."""
    lookup = parse_room_id_api_response(ok_json(api_answer(live_status=live_status)), unique_id="asked")
    assert lookup == RoomLookup(room_id=ROOM_ID, unique_id="someone", is_live=is_live, source="api")


def test_room_id_api_user_not_found() -> None:
    """``statusCode`` 19881007 ``user_not_found`` (HTTP 200) → UserNotFound."""
    body = {"data": {}, "extra": {}, "message": "user_not_found", "statusCode": 19881007}
    with pytest.raises(UserNotFound, match="19881007"):
        parse_room_id_api_response(ok_json(body), unique_id="nobody")


def test_room_id_api_user_not_found_by_message_alone() -> None:
    """[TL] goes by ``message == "user_not_found"`` whatever the code."""
    with pytest.raises(UserNotFound):
        parse_room_id_api_response(ok_json(api_answer(status_code=1, message="user_not_found")))


def test_room_id_api_other_status_code_is_api_error() -> None:
    """[V1]/[C2]: any other non-zero ``statusCode`` → "API Error {code} ({message})" (APIError)."""
    with pytest.raises(APIError, match=r"API error 10101 \(params error\)") as info:
        parse_room_id_api_response(ok_json(api_answer(status_code=10101, message="params error")))
    assert info.value.api_code == 10101


@pytest.mark.parametrize("room_id", [None, "", "0", "abc", 123.5])
def test_room_id_api_missing_room_id_is_unexpected_response(room_id: object) -> None:
    """[C2]: no usable ``data.user.roomId`` → UnexpectedResponse."""
    body = api_answer()
    user = body["data"]["user"]  # type: ignore[index]  # built just above
    if room_id is None:
        del user["roomId"]
    else:
        user["roomId"] = room_id
    with pytest.raises(UnexpectedResponse, match="roomId"):
        parse_room_id_api_response(ok_json(body))


# --------------------------------------------------------------------------------------------
# Room id routes: the configurable fallback order
# --------------------------------------------------------------------------------------------


def walk(routes: tuple[RoomIdRoute, ...], answers: dict[str, Response]) -> tuple[RoomLookup, list[str]]:
    """What a transport does: each route in order, next on HTTPError, the last error if all fail."""
    tried: list[str] = []
    error: HTTPError | None = None
    for route in routes:
        request = route.build_request(unique_id="someone", endpoints=ENDPOINTS, client_params=PARAMS)
        tried.append(urlsplit(request.url).path)
        try:
            return route.parse_response(answers[urlsplit(request.url).path], unique_id="someone"), tried
        except HTTPError as exc:
            error = exc
    assert error is not None
    raise error


def test_default_routes_are_live_page_then_api() -> None:
    """SPEC.md §2.2: live-page HTML, then the API route; the old regexes are opt-in."""
    assert DEFAULT_ROOM_ID_ROUTES == (LIVE_PAGE_ROUTE, API_ROUTE)
    assert [r.name for r in DEFAULT_ROOM_ID_ROUTES] == ["live_page", "api"]


def test_walk_falls_back_to_the_api_when_the_page_is_blocked() -> None:
    """A blocked live page (CaptchaRequired) makes the walk try the API, which answers."""
    answers = {"/@someone/live": ok(CAPTCHA_PAGE), "/api-live/user/room/": ok_json(api_answer())}
    lookup, tried = walk(DEFAULT_ROOM_ID_ROUTES, answers)
    assert tried == ["/@someone/live", "/api-live/user/room/"]
    assert lookup.source == "api"


def test_walk_stops_at_an_offline_page() -> None:
    """An offline page is an answer, not an error: the walk ends there ([TL])."""
    answers = {"/@someone/live": ok(live_page(sigi_state(room_status=4)))}
    lookup, tried = walk(DEFAULT_ROOM_ID_ROUTES, answers)
    assert (lookup.is_live, tried) == (False, ["/@someone/live"])


def test_walk_order_is_configurable() -> None:
    """Any order of routes, including the old regexes, can be walked; all failing raises the last error."""
    answers = {"/@someone/live": ok(CAPTCHA_PAGE), "/api-live/user/room/": ok_json(api_answer(19881007))}
    with pytest.raises(UserNotFound):
        walk((API_ROUTE, LEGACY_LIVE_PAGE_ROUTE, LIVE_PAGE_ROUTE, API_ROUTE), answers)
    lookup, _ = walk((LEGACY_LIVE_PAGE_ROUTE,), {"/@someone/live": ok(live_page(sigi_state()))})
    assert (lookup.room_id, lookup.source) == (ROOM_ID, "live_page_legacy")


# --------------------------------------------------------------------------------------------
# Room info, live check (SPEC.md §2.3)
# --------------------------------------------------------------------------------------------


def test_room_info_request_url() -> None:
    """``GET {webcast}/room/info/?{client params}&room_id=…`` with cookies."""
    request = build_room_info_request(
        endpoints=ENDPOINTS, client_params=PARAMS, room_id=ROOM_ID, cookies={"ttwid": "1%7Cabc"}
    )
    assert request.url.startswith("https://webcast.tiktok.com/webcast/room/info/?aid=1988&")
    assert request.url.endswith(f"&room_id={ROOM_ID}")
    assert request.header("cookie") == "tt-target-idc=useast1a; ttwid=1%7Cabc"


def test_room_info_of_a_live_room() -> None:
    """room/info ``data`` gives status, title, owner, times, stream URLs and keeps the raw object."""
    info = parse_room_info_response(ok_json(room_info_body()))
    assert info.room_id == ROOM_ID
    assert info.status is RoomStatus.LIVE
    assert info.is_live
    assert info.title == "Friday stream"
    assert info.owner is not None
    assert (info.owner.user_id, info.owner.unique_id, info.owner.nickname, info.owner.bio_description) == (
        6812345678901234567,
        "someone",
        "Some One",
        "hi",
    )
    assert info.owner.avatar_url == "https://p16-sign/avatar.webp"
    assert (info.create_time, info.user_count) == (1734567890, 321)
    assert info.hls_pull_url is not None
    assert info.hls_pull_url.endswith("index.m3u8")
    assert info.stream_data == '{"data":{"origin":{"main":{}}}}'
    assert info.raw["title"] == "Friday stream"
    assert "raw" not in repr(info)


def test_room_info_status_4_is_user_offline() -> None:
    """Status 4 → UserOffline (the peers refuse it on connect), unless the caller just wants the info."""
    with pytest.raises(UserOffline, match="status 4"):
        parse_room_info_response(ok_json(room_info_body(status=4)))
    info = parse_room_info_response(ok_json(room_info_body(status=4)), require_live=False)
    assert (info.status, info.is_live) == (RoomStatus.ENDED, False)


def test_room_info_paused_and_unknown_statuses() -> None:
    """Status 3 (paused) counts as live; an unknown status is kept as a plain int."""
    assert parse_room_info_response(ok_json(room_info_body(status=3))).is_live
    info = parse_room_info_response(ok_json(room_info_body(status=7)))
    assert info.status == 7
    assert not isinstance(info.status, RoomStatus)


def test_room_info_minimal_data_uses_defaults() -> None:
    """Absent optional fields become defaults, not errors."""
    body = {"data": {"status": 2, "id": str(ROOM_ID)}, "status_code": 0}
    assert parse_room_info_response(ok_json(body)) == RoomInfo(room_id=ROOM_ID, status=RoomStatus.LIVE)


@pytest.mark.parametrize(
    "data",
    [
        {"message": "This LIVE is age-restricted", "prompts": "Log in to watch"},
        {"prompts": "Log in"},
        {"message": "login required"},
        {},
    ],
)
def test_room_info_age_restricted(data: dict[str, str]) -> None:
    """[TL]: ``data`` with ``prompts`` or at most one key → AgeRestricted (a session bypasses it)."""
    with pytest.raises(AgeRestricted, match="session"):
        parse_room_info_response(ok_json({"data": data, "extra": {"now": 1}, "status_code": 4003110}))


def test_room_info_api_error_and_missing_data() -> None:
    """A non-zero ``status_code`` → APIError; no ``data`` object or no status → UnexpectedResponse."""
    body = room_info_body()
    body["status_code"] = 30003
    body["data"]["message"] = "room not exist"  # type: ignore[index]  # built by room_info_body
    with pytest.raises(APIError, match=r"30003 \(room not exist\)"):
        parse_room_info_response(ok_json(body))
    with pytest.raises(UnexpectedResponse, match="'data'"):
        parse_room_info_response(ok_json({"extra": {}, "status_code": 0}))
    with pytest.raises(UnexpectedResponse, match=r"data\.status"):
        parse_room_info_response(ok_json({"data": {"id": 1, "title": "x"}, "status_code": 0}))


def test_check_alive_request_and_answer() -> None:
    """[TL] ``room/check_alive`` joins ids with commas and answers ``data[i].alive`` in order."""
    request = build_check_alive_request(endpoints=ENDPOINTS, client_params=PARAMS, room_ids=[1, 22])
    assert request.url.startswith("https://webcast.tiktok.com/webcast/room/check_alive/?")
    assert query(request.url)[-1] == ("room_ids", "1,22")
    body = {"data": [{"alive": True, "room_id": 1}, {"alive": False, "room_id": 22}], "status_code": 0}
    assert parse_check_alive_response(ok_json(body)) == (True, False)


def test_check_alive_errors() -> None:
    """No room ids is a ValueError; a bad ``data`` an UnexpectedResponse; a code an APIError."""
    with pytest.raises(ValueError, match="at least one"):
        build_check_alive_request(endpoints=ENDPOINTS, client_params=PARAMS, room_ids=[])
    with pytest.raises(UnexpectedResponse):
        parse_check_alive_response(ok_json({"data": [{"alive": "yes"}], "status_code": 0}))
    with pytest.raises(APIError):
        parse_check_alive_response(ok_json({"data": None, "status_code": 5}))


@pytest.mark.parametrize("room_id", [0, -1, True, "123"])
def test_builders_reject_bad_room_ids(room_id: object) -> None:
    """A room id must be a positive int."""
    with pytest.raises(ValueError, match="room_id"):
        build_room_info_request(endpoints=ENDPOINTS, client_params=PARAMS, room_id=room_id)  # type: ignore[arg-type]  # the point


# --------------------------------------------------------------------------------------------
# Gift list (SPEC.md §2.3)
# --------------------------------------------------------------------------------------------


def test_gift_list_request_url() -> None:
    """``GET {webcast}/gift/list/?{client params}&room_id=…``."""
    request = build_gift_list_request(endpoints=ENDPOINTS, client_params=PARAMS, room_id=ROOM_ID)
    assert urlsplit(request.url).path == "/webcast/gift/list/"
    assert query(request.url)[-1] == ("room_id", str(ROOM_ID))


def test_gift_list_gives_gift_infos() -> None:
    """Each ``data.gifts[]`` entry becomes a GiftInfo (id, name, diamond_count, image, type, describe)."""
    assert parse_gift_list_response(ok_json(GIFT_LIST)) == (
        GiftInfo(
            id=5655,
            name="Rose",
            diamond_count=1,
            image_url="https://p19-webcast.tiktokcdn.com/rose.png",
            type=1,
            describe="sent Rose",
        ),
        GiftInfo(id=6064, name="GG", diamond_count=1),
    )


def test_gift_list_errors() -> None:
    """No ``data.gifts`` list, or an entry without an integer id → UnexpectedResponse naming it."""
    with pytest.raises(UnexpectedResponse, match=r"data\.gifts list"):
        parse_gift_list_response(ok_json({"data": {"gifts": None}, "status_code": 0}))
    with pytest.raises(UnexpectedResponse, match=r"data\.gifts\[1\]"):
        parse_gift_list_response(ok_json({"data": {"gifts": [{"id": 1}, {"name": "x"}]}, "status_code": 0}))
    with pytest.raises(APIError):
        parse_gift_list_response(ok_json({"data": {"message": "err"}, "status_code": 10011}))


# --------------------------------------------------------------------------------------------
# im/fetch (SPEC.md §2.4)
# --------------------------------------------------------------------------------------------


def test_fetch_request_url() -> None:
    """im/fetch carries the client params, room_id, cursor, internal_ext and resp_content_type=protobuf."""
    request = build_fetch_request(
        endpoints=ENDPOINTS,
        client_params=PARAMS,
        room_id=ROOM_ID,
        cursor="t-1734567890_r-1_d-1_u-1",
        internal_ext="internal_src:dim|seq:1",
        cookies={"sessionid": "abc"},
    )
    assert request.method == "GET"
    assert request.url.startswith("https://webcast.tiktok.com/webcast/im/fetch/?aid=1988&")
    assert query(request.url)[-4:] == [
        ("room_id", str(ROOM_ID)),
        ("cursor", "t-1734567890_r-1_d-1_u-1"),
        ("internal_ext", "internal_src:dim|seq:1"),
        ("resp_content_type", "protobuf"),
    ]
    assert request.header("cookie") == "tt-target-idc=useast1a; sessionid=abc"


def test_fetch_request_extra_headers_replace_defaults() -> None:
    """extra_headers replace a default of the same name and add the rest."""
    request = build_fetch_request(
        endpoints=ENDPOINTS,
        client_params=PARAMS,
        room_id=1,
        extra_headers=[("accept", "application/x-protobuf")],
    )
    assert [v for k, v in request.headers if k.lower() == "accept"] == ["application/x-protobuf"]


def test_fetch_response_is_the_protobuf_body() -> None:
    """A 200 protobuf body is returned as is (decoding is the codec's job)."""
    body = b"\x12\x05abcde\x18\xe8\x07"  # cursor "abcde", fetch_interval 1000
    assert parse_fetch_response(ok(body, ("Content-Type", "application/protobuf"))) == body


@pytest.mark.parametrize(
    "response",
    [ok(CAPTCHA_PAGE), ok(b"\x12\x00", ("Content-Type", "text/html"))],
    ids=["html-body", "html-content-type"],
)
def test_fetch_html_is_unexpected_html(response: Response) -> None:
    """HTML where protobuf was expected → UnexpectedHTML."""
    with pytest.raises(UnexpectedHTML):
        parse_fetch_response(response)


def test_fetch_json_error_keeps_message_and_retry_after() -> None:
    """[V1]: a JSON ``{error}`` with Retry-After → UnexpectedResponse quoting it, with retry_after."""
    response = ok_json({"error": "Signature invalid"}, ("Retry-After", "5"))
    with pytest.raises(UnexpectedResponse, match="expected protobuf, got JSON: Signature invalid") as info:
        parse_fetch_response(response)
    assert info.value.retry_after == 5.0
    with pytest.raises(UnexpectedResponse, match="JSON"):
        parse_fetch_response(ok(b"\x12\x00", ("Content-Type", "application/json")))


def test_fetch_failure_modes() -> None:
    """Empty → CaptchaRequired; 429 → RateLimited; 5xx → HTTPStatusError; too big → RemoteProtocolError."""
    with pytest.raises(CaptchaRequired):
        parse_fetch_response(ok(b""))
    with pytest.raises(RateLimited) as info:
        parse_fetch_response(ok(b"", ("Retry-After", "2"), status=429))
    assert info.value.retry_after == 2.0
    with pytest.raises(HTTPStatusError):
        parse_fetch_response(ok(b"", status=503))
    with pytest.raises(RemoteProtocolError, match="max_http_body_size"):
        parse_fetch_response(ok(b"\x12" * 11), limits=Limits(max_http_body_size=10))


# --------------------------------------------------------------------------------------------
# WebSocket (SPEC.md §2.5, §3.3)
# --------------------------------------------------------------------------------------------

ROUTE_PARAMS = {"imprp": "GZIP_abc def", "wrss": "x/y+z", "im_path": "/webcast/im/fetch/", "empty": ""}


def ws_url(**kwargs: object) -> str:
    args: dict[str, object] = {
        "push_server": PUSH_SERVER,
        "route_params": ROUTE_PARAMS,
        "client_params": PARAMS,
        "room_id": ROOM_ID,
        "cursor": "t-1_r-1",
        "internal_ext": "internal_src:dim|seq:1",
    }
    args.update(kwargs)
    return build_websocket_url(**args)  # type: ignore[arg-type]  # typed by the defaults above


def test_websocket_url_follows_c2() -> None:
    """[C2]: ws params, compress, room_id, internal_ext, cursor, non-empty route params; form-encoded."""
    url = ws_url()
    assert url.startswith(PUSH_SERVER + "?version_code=180800&aid=1988&")
    items = query(url)
    keys = [k for k, _ in items]
    ws_keys = [k for k, _ in PARAMS.ws_query_items()]
    assert keys == [
        *ws_keys,
        "compress",
        "room_id",
        "internal_ext",
        "cursor",
        "imprp",
        "wrss",
        "im_path",
        "version_code",
    ]
    params = dict(items[:-1])
    assert (params["compress"], params["room_id"]) == ("gzip", str(ROOM_ID))
    assert (params["cursor"], params["internal_ext"]) == ("t-1_r-1", "internal_src:dim|seq:1")
    assert (params["imprp"], params["wrss"]) == ("GZIP_abc def", "x/y+z")
    assert "empty" not in params
    assert "imprp=GZIP_abc+def&wrss=x%2Fy%2Bz&" in url  # form encoding of route params


def test_websocket_url_ends_with_literal_doubled_version_code() -> None:
    """The query ends with the literal ``&version_code=270000``, after 180800 in the ws params."""
    url = ws_url()
    assert url.endswith("&version_code=270000")
    assert [v for k, v in query(url) if k == "version_code"] == ["180800", "270000"]


def test_websocket_route_params_win_in_place() -> None:
    """A route param with a key of ours replaces our value at our position ("later wins", [C2])."""
    items = query(ws_url(route_params={"cursor": "server-cursor", "aid": "9999"}))
    assert dict(items[:-1])["cursor"] == "server-cursor"
    assert items[1] == ("aid", "9999")
    assert [k for k, _ in items].count("cursor") == 1


def test_websocket_url_without_compression_and_with_a_query() -> None:
    """compress=False sends an empty ``compress`` ([TL]); a push server with a query gets ``&``."""
    assert ("compress", "") in query(ws_url(compress=False))
    url = ws_url(push_server="ws://127.0.0.1:9000/ws?token=1")
    assert url.startswith("ws://127.0.0.1:9000/ws?token=1&version_code=180800&")


@pytest.mark.parametrize(
    "push_server", ["https://webcast-ws.tiktok.com/", "wss://", "/relative", "wss://u:p@h/"]
)
def test_websocket_url_rejects_non_websocket_push_servers(push_server: str) -> None:
    """The push server must be a ``ws://`` or ``wss://`` URL without credentials."""
    with pytest.raises(ValueError, match="push_server"):
        ws_url(push_server=push_server)


def test_websocket_headers_strip_session_cookies_unless_authenticated() -> None:
    """[C2]: UA plus the jar minus session cookies and tt-target-idc; ``authenticate`` sends all."""
    jar = {
        "ttwid": "1|abc",
        "msToken": "m",
        "sessionid": "S",
        "sessionid_ss": "S",
        "sid_tt": "S",
        "sid_guard": "g",
    }
    headers = build_websocket_headers(client_params=PARAMS, cookies=jar)
    assert headers == (("User-Agent", DEFAULT_USER_AGENT), ("Cookie", "ttwid=1|abc; msToken=m"))
    full = dict(build_websocket_headers(client_params=PARAMS, cookies=jar, authenticate=True))
    assert full["Cookie"].startswith("tt-target-idc=useast1a; ttwid=1|abc; msToken=m; sessionid=S")


def test_websocket_headers_without_cookies_and_with_extras() -> None:
    """No Cookie header for an empty jar; extra headers replace or add."""
    headers = build_websocket_headers(client_params=PARAMS, extra_headers=[("user-agent", "X"), ("X-A", "1")])
    assert headers == (("user-agent", "X"), ("X-A", "1"))


def test_handshake_options_are_cookie_style() -> None:
    """``Handshake-Options`` is a ``k=v; k=v`` list; malformed items are skipped."""
    assert parse_handshake_options("ping-interval=10; compress=gzip;;junk; =x; a = b ") == {
        "ping-interval": "10",
        "compress": "gzip",
        "a": "b",
    }


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("10", 10.0),
        ("2.5", 2.5),
        (None, DEFAULT_PING_INTERVAL),
        ("x", 5.0),
        ("0", 5.0),
        ("nan", 5.0),
        ("9999", 5.0),
    ],
)
def test_ping_interval_defaults_to_5_seconds(value: str | None, seconds: float) -> None:
    """[TL]: ``ping-interval`` seconds, else 5.0; absurd values (< 1 s, > 300 s, NaN) use the default."""
    assert DEFAULT_PING_INTERVAL == 5.0
    assert ping_interval({} if value is None else {"ping-interval": value}) == seconds


def test_handshake_101_gives_options() -> None:
    """A 101 answer is accepted and its options read."""
    info = parse_handshake_response(Response(101, (("Handshake-Options", "ping-interval=7"),)))
    assert (info.ping_interval, info.options) == (7.0, (("ping-interval", "7"),))
    assert parse_handshake_response(Response(101)).ping_interval == 5.0


@pytest.mark.parametrize("status", [200, 400])
def test_handshake_refusal_is_webcast_blocked(status: int) -> None:
    """200 or 400 instead of 101 → WebcastBlocked quoting ``Handshake-Msg``, not retryable (SPEC.md §9)."""
    response = Response(status, (("Handshake-Msg", "illegal secret key"),))
    with pytest.raises(WebcastBlocked, match="illegal secret key") as info:
        parse_handshake_response(response)
    assert not info.value.retryable
    assert info.value.status_code == status


def test_handshake_429_is_rate_limited() -> None:
    """A 429 handshake is RateLimited with the retry hint."""
    with pytest.raises(RateLimited) as info:
        parse_handshake_response(Response(429, (("Retry-After", "3"),)))
    assert info.value.retry_after == 3.0


# --------------------------------------------------------------------------------------------
# Send chat (SPEC.md §10)
# --------------------------------------------------------------------------------------------

SESSION = "0123456789abcdef0123456789abcdef"


def test_send_chat_request_puts_the_session_in_cookies_only() -> None:
    """POST room/chat with room_id and content in the query; the session only in three cookies."""
    request = build_send_chat_request(
        endpoints=ENDPOINTS,
        client_params=PARAMS,
        room_id=ROOM_ID,
        text="hello world",
        session_id=SESSION,
        cookies={"tt-target-idc": "eu-ttp2", "sessionid": "old"},
    )
    assert (request.method, request.body) == ("POST", b"")
    assert request.url.startswith("https://webcast.tiktok.com/webcast/room/chat/?")
    items = query(request.url)
    assert items[-2:] == [("room_id", str(ROOM_ID)), ("content", "hello world")]
    assert dict(items)["user_is_login"] == "true"
    assert SESSION not in request.url
    assert request.header("cookie") == (
        f"tt-target-idc=eu-ttp2; sessionid={SESSION}; sessionid_ss={SESSION}; sid_tt={SESSION}"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"session_id": ""}, "needs a session id"),
        ({"session_id": SESSION + "; x=1"}, "not allowed in a cookie"),
        ({"text": "  "}, "must not be empty"),
        ({"text": f"my id is {SESSION}"}, "must not appear in the URL"),
    ],
)
def test_send_chat_request_refusals_never_quote_the_session(kwargs: dict[str, str], message: str) -> None:
    """Missing or malformed session, empty text, or a session that would land in the URL → ValueError."""
    with pytest.raises(ValueError, match=message) as info:
        build_send_chat_request(
            endpoints=ENDPOINTS,
            client_params=PARAMS,
            room_id=ROOM_ID,
            text=kwargs.get("text", "hi"),
            session_id=kwargs.get("session_id", SESSION),
        )
    assert SESSION not in str(info.value)


def test_send_chat_ok() -> None:
    """``status_code`` 0 → ChatSent with ``extra.now``."""
    body = {"data": {"content": "hello", "msg_id": 1}, "extra": {"now": 1734567890123}, "status_code": 0}
    sent = parse_send_chat_response(ok_json(body))
    assert sent.server_time == 1734567890123
    assert sent.raw["content"] == "hello"


def test_send_chat_20003_is_invalid_session() -> None:
    """``status_code`` 20003 → InvalidSession (expired or invalid session id)."""
    body = {
        "data": {"message": "Login expired", "prompts": "Please log in"},
        "extra": {"now": 1},
        "status_code": 20003,
    }
    with pytest.raises(InvalidSession, match="20003"):
        parse_send_chat_response(ok_json(body))


def test_send_chat_other_code_is_api_error() -> None:
    """Another non-zero ``status_code`` → APIError quoting ``data.message``; none → UnexpectedResponse."""
    body = {"data": {"message": "You are sending messages too fast"}, "extra": {}, "status_code": 4001004}
    with pytest.raises(APIError, match="too fast") as info:
        parse_send_chat_response(ok_json(body))
    assert info.value.api_code == 4001004
    with pytest.raises(UnexpectedResponse, match="status_code"):
        parse_send_chat_response(ok_json({"data": {}}))


def test_quoted_server_text_is_bounded_and_single_line() -> None:
    """Server text in an error is cut to 200 characters and stripped of control characters."""
    body = {"data": {"message": "line1\r\nline2 " + "x" * 500}, "status_code": 1}
    with pytest.raises(APIError) as info:
        parse_send_chat_response(ok_json(body))
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 260


def test_error_detail_ignores_unreadable_error_bodies() -> None:
    """A 429 whose small body is malformed or over-nested JSON still raises, just without quoting it."""
    for body in (b"{not json", b'{"a":' + b"[" * 20 + b"]" * 20 + b"}"):
        with pytest.raises(RateLimited) as info:
            parse_send_chat_response(ok(body, status=429))
        assert str(info.value) == "send chat: rate limited (HTTP 429)"


def test_no_cookie_header_without_cookies() -> None:
    """Without tt-target-idc and a jar, requests carry no Cookie header at all."""
    request = build_fetch_request(
        endpoints=ENDPOINTS, client_params=ClientParams(tt_target_idc=""), room_id=1
    )
    assert request.header("cookie") is None


@pytest.mark.parametrize("header", [("Bad:Name", "x"), ("", "x"), ("X-Ok", "a\r\nInjected: 1")])
def test_extra_headers_refuse_injection(header: tuple[str, str]) -> None:
    """An extra header with an empty name, a ``:`` in its name or a control character is a ValueError."""
    with pytest.raises(ValueError, match="invalid header"):
        build_fetch_request(endpoints=ENDPOINTS, client_params=PARAMS, room_id=1, extra_headers=[header])


def test_not_found_message_names_the_user_only_when_known() -> None:
    """Messages say ``@user`` when the caller passed the username, else ``the user`` (never a bare ``@``)."""
    body = {"data": {}, "message": "user_not_found", "statusCode": 19881007}
    with pytest.raises(UserNotFound, match="the user not found") as info:
        parse_room_id_api_response(ok_json(body))
    assert "@ " not in str(info.value)
