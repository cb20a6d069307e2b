"""Signers as sans-I/O exchanges, and the secrets rule (SPEC.md §2.6, §2.7, §9, §10)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import pytest

from webcast_proto._errors import (
    APIError,
    InvalidSession,
    LocalProtocolError,
    RateLimited,
    RemoteProtocolError,
    SignatureRequired,
    SignerError,
    WebcastError,
)
from webcast_proto.config import ClientParams, Endpoints, Limits
from webcast_proto.http import (
    Request,
    Response,
    RoomLookup,
    build_fetch_request,
    build_gift_list_request,
    build_live_page_request,
    build_room_id_api_request,
    build_room_info_request,
    build_send_chat_request,
    build_websocket_headers,
    build_websocket_url,
    parse_room_info_response,
    parse_send_chat_response,
)
from webcast_proto.signing import (
    EulerRoomIdRoute,
    EulerSigner,
    LegacySigner,
    NoSigner,
    SignedUrl,
    Signer,
    apply_signature,
    may_send_session_id,
    parse_cookie_pairs,
    strip_signature_params,
)

if TYPE_CHECKING:
    from collections.abc import Callable

ROOM_ID = 7448811992334045998
PARAMS = ClientParams(device_id="7212345678901234567")
ENDPOINTS = Endpoints()
API_KEY = "euler_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"
SESSION = "5e55i0n1d0123456789abcdefabcdef0"
SIGNED_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"


def json_response(value: object, *headers: tuple[str, str], status: int = 200) -> Response:
    return Response(status, (("Content-Type", "application/json"), *headers), json.dumps(value).encode())


def fetch_request() -> Request:
    return build_fetch_request(
        endpoints=ENDPOINTS, client_params=PARAMS, room_id=ROOM_ID, cookies={"ttwid": "t"}
    )


def sign_answer(url: str, **response: object) -> dict[str, object]:
    answer: dict[str, object] = {
        "signedUrl": url,
        "userAgent": SIGNED_UA,
        "browserName": "chrome",
        "browserVersion": "131",
        "tokens": {"X-Bogus": "DFSzswVO", "msToken": "mstok"},
        "requestHeaders": {"Sec-Ch-Ua-Platform": '"Windows"', "Cookie": "evil=1", "Host": "evil.example"},
        "cookies": [{"name": "msToken", "value": "mstok"}, "ttwid=1|x; Path=/"],
    }
    answer.update(response)
    return {"code": 200, "message": "ok", "response": answer}


SIGNED_URL = fetch_request().url + "&msToken=mstok&X-Bogus=DFSzswVO&X-Gnarly=abc"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def test_strip_signature_params_removes_old_signatures_only() -> None:
    """X-Bogus, X-Gnarly and msToken are stripped before signing; other params keep their order."""
    url = "https://h/p/?a=1&msToken=old&b=&X-Bogus=x&X-Gnarly=y&c=3"
    assert strip_signature_params(url) == "https://h/p/?a=1&b=&c=3"
    unchanged = "https://h/p/?a=1%2C2"
    assert strip_signature_params(unchanged) is unchanged


@pytest.mark.parametrize(
    ("value", "pairs"),
    [
        ("ttwid=1|abc; tt_csrf_token=x", (("ttwid", "1|abc"), ("tt_csrf_token", "x"))),
        ("ttwid=1|abc; Path=/; Domain=.tiktok.com; Secure; HttpOnly", (("ttwid", "1|abc"),)),
        ("", ()),
        ("novalue; =x", ()),
    ],
)
def test_x_set_tt_cookie_parses_both_readings(value: str, pairs: tuple[tuple[str, str], ...]) -> None:
    """Every cookie pair is kept ([TL]); Set-Cookie attributes are not cookies ([C2] keeps the first)."""
    assert parse_cookie_pairs(value) == pairs


@pytest.mark.parametrize(
    ("whitelisted", "allowed"),
    [
        (None, False),
        ("", False),
        ("api.eulerstream.com", True),
        ("https://api.eulerstream.com", True),
        ("api.eulerstream.com:443", True),
        ("evil.example", False),
        ("https://api.eulerstream.com.evil.example", False),
    ],
)
def test_session_id_goes_only_to_a_whitelisted_sign_server(whitelisted: str | None, allowed: bool) -> None:
    """SPEC.md §2.6: a session id is only sent when the whitelist names the sign server's host."""
    assert may_send_session_id("https://api.eulerstream.com", whitelisted) is allowed


def test_apply_signature_sets_url_user_agent_headers_and_cookies() -> None:
    """The signed URL, its UA and headers replace ours; its cookies join the jar (not its Cookie header)."""
    signer = EulerSigner()
    signed = signer.parse_sign_response(json_response(sign_answer(SIGNED_URL)))
    request = apply_signature(fetch_request(), signed)
    assert request.url == SIGNED_URL
    assert request.header("user-agent") == SIGNED_UA
    assert request.header("sec-ch-ua-platform") == '"Windows"'
    assert request.header("host") is None
    assert request.header("cookie") == "tt-target-idc=useast1a; ttwid=1|x; msToken=mstok"
    assert [k.lower() for k, _ in request.headers].count("user-agent") == 1


def test_apply_signature_with_only_a_url_keeps_our_headers() -> None:
    """A signature without UA, headers or cookies changes the URL alone."""
    request = apply_signature(fetch_request(), SignedUrl(url=SIGNED_URL))
    assert (request.url, request.headers) == (SIGNED_URL, fetch_request().headers)


def test_euler_answer_cookies_of_unknown_shape_are_skipped() -> None:
    """``response.cookies`` not a list, or entries without a string name and value, give no cookies."""
    for cookies in ({"msToken": "x"}, [{"name": "a"}, {"value": "b"}, 3]):
        signed = EulerSigner().parse_sign_response(json_response(sign_answer(SIGNED_URL, cookies=cookies)))
        assert signed.cookies == ()


def test_apply_signature_refuses_a_url_for_another_host() -> None:
    """A signed URL for another scheme, host or path would send our cookies elsewhere → SignerError."""
    for url in (
        "https://evil.example/webcast/im/fetch/?a=1",
        "http://webcast.tiktok.com/webcast/im/fetch/?a",
    ):
        with pytest.raises(SignerError, match=r"expected https://webcast\.tiktok\.com"):
            apply_signature(fetch_request(), SignedUrl(url=url))


def test_apply_signature_refuses_bad_cookies() -> None:
    """A cookie value that would break the header is a SignerError, not a ValueError."""
    with pytest.raises(SignerError, match="'msToken'"):
        apply_signature(fetch_request(), SignedUrl(url=fetch_request().url, cookies=(("msToken", "a;b"),)))


# --------------------------------------------------------------------------------------------
# NoSigner
# --------------------------------------------------------------------------------------------


def test_no_signer_signs_nothing() -> None:
    """NoSigner asks for no sign request; parsing an answer it never asked for is a LocalProtocolError."""
    signer: Signer = NoSigner()
    assert signer.sign_request(fetch_request()) is None
    with pytest.raises(LocalProtocolError):
        signer.parse_sign_response(Response(200))


# --------------------------------------------------------------------------------------------
# Euler sign_url
# --------------------------------------------------------------------------------------------


def test_euler_sign_request_is_a_json_post() -> None:
    """[TL]: ``POST /webcast/sign_url?client=ttlive-other`` with url, userAgent, method and type."""
    signer: Signer = EulerSigner(api_key=API_KEY)
    request = fetch_request()
    signed_request = signer.sign_request(replace_url(request, request.url + "&msToken=old&X-Bogus=x"))
    assert signed_request is not None
    assert (signed_request.method, signed_request.url) == (
        "POST",
        "https://api.eulerstream.com/webcast/sign_url?client=ttlive-other",
    )
    assert signed_request.header("X-Api-Key") == API_KEY
    assert signed_request.header("Content-Type") == "application/json"
    assert json.loads(signed_request.body) == {
        "url": request.url,
        "userAgent": PARAMS.user_agent,
        "method": "GET",
        "type": "xhr",
    }


def replace_url(request: Request, url: str) -> Request:
    return Request(request.method, url, request.headers, request.body)


def test_euler_sign_request_carries_session_and_payload_in_the_body() -> None:
    """With a session, ``sessionId`` and ``ttTargetIdc`` go in the JSON body; a POST body as ``payload``."""
    signer = EulerSigner(session_id=SESSION, tt_target_idc="eu-ttp2")
    request = Request("POST", "https://webcast.tiktok.com/webcast/x/", (("User-Agent", "UA"),), b"a=1")
    body = json.loads(signer.sign_request(request).body)
    assert (body["sessionId"], body["ttTargetIdc"], body["payload"]) == (SESSION, "eu-ttp2", "a=1")
    assert EulerSigner().sign_request(request).header("x-api-key") is None


def test_euler_sign_request_needs_a_user_agent() -> None:
    """The signature depends on the UA, so a request without one cannot be signed."""
    with pytest.raises(ValueError, match="User-Agent"):
        EulerSigner().sign_request(Request("GET", "https://webcast.tiktok.com/webcast/x/"))


def test_euler_sign_response_success() -> None:
    """``response.signedUrl``, ``userAgent``, ``requestHeaders`` (strings) and ``cookies`` are read."""
    signed = EulerSigner().parse_sign_response(json_response(sign_answer(SIGNED_URL)))
    assert signed.url == SIGNED_URL
    assert signed.user_agent == SIGNED_UA
    assert ("Sec-Ch-Ua-Platform", '"Windows"') in signed.headers
    assert signed.cookies == (("msToken", "mstok"), ("ttwid", "1|x"))
    assert "mstok" not in repr(signed).replace(SIGNED_URL, "")


def test_euler_sign_response_tokens_without_ms_token_in_url() -> None:
    """[C2]: non-empty ``tokens`` suffice even when the signed URL has no msToken."""
    url = fetch_request().url + "&X-Bogus=x"
    assert EulerSigner().parse_sign_response(json_response(sign_answer(url))).url == url


EULER_FAILURES: list[tuple[Response, type[WebcastError], str]] = [
    (
        json_response({"message": "Too many", "limit_label": "day"}, ("Retry-After", "60"), status=429),
        RateLimited,
        "Too many / day",
    ),
    (json_response({"message": "Payment required"}, status=402), SignatureRequired, "402"),
    (json_response({"message": "Forbidden"}, status=403), SignatureRequired, "premium"),
    (json_response({"message": "bad key"}, status=401), SignatureRequired, "401"),
    (json_response({"code": 403, "message": "premium only"}), SignatureRequired, "code 403"),
    (json_response({"code": 500, "message": "boom"}), SignerError, r"error 500 \(boom\)"),
    (Response(500, (), b"Internal Server Error"), SignerError, "HTTP 500"),
    (Response(200), SignerError, "empty body"),
    (Response(200, (), b"{not json"), SignerError, "malformed JSON"),
    (Response(200, (), b"<html>captcha</html>"), SignerError, "malformed JSON"),
    (Response(200, (), b"\xff{}"), SignerError, "UTF-8"),
    (json_response([1]), SignerError, "not a JSON object"),
    (json_response({"code": 200, "response": {}}), SignerError, "signedUrl"),
    (json_response(sign_answer("javascript:alert(1)")), SignerError, "signedUrl"),
    (json_response(sign_answer(fetch_request().url, tokens={})), SignerError, "no tokens"),
    (json_response(sign_answer(SIGNED_URL, userAgent="UA\r\nX: 1")), SignerError, "control characters"),
]


@pytest.mark.parametrize(("response", "error", "message"), EULER_FAILURES)
def test_euler_sign_response_failures(response: Response, error: type[WebcastError], message: str) -> None:
    """SPEC.md §2.6/§9: 429 RateLimited; 401/402/403 or code 403 SignatureRequired; the rest SignerError."""
    with pytest.raises(error, match=message):
        EulerSigner().parse_sign_response(response)


def test_euler_rate_limit_carries_retry_after() -> None:
    """A sign-server 429 keeps the retry hint of its headers."""
    response = json_response({"message": "slow down"}, ("X-RateLimit-Reset", "42"), status=429)
    with pytest.raises(RateLimited) as info:
        EulerSigner().parse_sign_response(response)
    assert info.value.retry_after == 42.0


def test_euler_answers_are_bounded_by_limits() -> None:
    """Sign-server answers obey the body size and JSON depth limits."""
    signer = EulerSigner(limits=Limits(max_http_body_size=64, max_json_depth=3))
    with pytest.raises(RemoteProtocolError, match="max_http_body_size"):
        signer.parse_sign_response(Response(200, (), b"{" + b" " * 100 + b"}"))
    with pytest.raises(RemoteProtocolError, match="max_json_depth"):
        signer.parse_sign_response(Response(200, (), b'{"a":[[[[1]]]]}'))


# --------------------------------------------------------------------------------------------
# Euler first fetch by proxy
# --------------------------------------------------------------------------------------------

FETCH_BODY = b"\x12\x0et-1_r-1_d-1_u-1\x18\xe8\x07R\x05wss://"


def test_euler_fetch_request() -> None:
    """[TL]: ``GET /webcast/fetch`` with client, room_id, user_agent, platform, client_enter=true."""
    request = EulerSigner(api_key=API_KEY).build_fetch_request(room_id=ROOM_ID, user_agent=SIGNED_UA)
    parts = urlsplit(request.url)
    assert (request.method, parts.netloc, parts.path) == ("GET", "api.eulerstream.com", "/webcast/fetch")
    assert parse_qsl(parts.query) == [
        ("client", "ttlive-python"),
        ("room_id", str(ROOM_ID)),
        ("user_agent", SIGNED_UA),
        ("platform", "web"),
        ("client_enter", "true"),
    ]
    assert request.header("accept") == "application/protobuf,application/json"
    assert request.header("x-api-key") == API_KEY
    assert request.header("x-cookie-header") is None


def test_euler_fetch_request_sends_the_session_in_a_header_not_the_query() -> None:
    """Unlike [TL]'s ``session_id`` query param, the session goes in ``x-cookie-header``."""
    signer = EulerSigner(session_id=SESSION, tt_target_idc="useast1a")
    request = signer.build_fetch_request(
        room_id=1, user_agent="UA", platform="mobile", cursor="c", country="us"
    )
    assert SESSION not in request.url
    assert request.header("x-cookie-header") == f"sessionid={SESSION}; tt-target-idc=useast1a"
    assert parse_qsl(urlsplit(request.url).query)[-2:] == [("cursor", "c"), ("country", "us")]


def test_euler_fetch_request_refusals() -> None:
    """``mobile`` needs a session; the platform is web or mobile; the UA must be usable in a header."""
    with pytest.raises(ValueError, match="mobile"):
        EulerSigner().build_fetch_request(room_id=1, user_agent="UA", platform="mobile")
    with pytest.raises(ValueError, match="platform"):
        EulerSigner().build_fetch_request(room_id=1, user_agent="UA", platform="tv")
    with pytest.raises(ValueError, match="user agent"):
        EulerSigner().build_fetch_request(room_id=1, user_agent="UA\n")


def test_euler_fetch_response_gives_body_and_cookies() -> None:
    """200: the raw protobuf body plus X-Set-TT-Cookie's cookies and the id headers."""
    response = Response(
        200,
        (
            ("Content-Type", "application/octet-stream"),
            ("X-Set-TT-Cookie", "ttwid=1|abc; tt_chain_token=xyz"),
            ("X-Request-Id", "req-1"),
            ("X-Agent-Id", "agent-7"),
            ("X-Log-Code", "0"),
            ("x-room-id", "123"),
        ),
        FETCH_BODY,
    )
    fetched = EulerSigner().parse_fetch_response(response)
    assert fetched.body == FETCH_BODY
    assert fetched.cookies == (("ttwid", "1|abc"), ("tt_chain_token", "xyz"))
    assert (fetched.room_id, fetched.request_id, fetched.agent_id, fetched.log_code) == (
        123,
        "req-1",
        "agent-7",
        "0",
    )
    assert "abc" not in repr(fetched)
    # The cookies go on to the WebSocket upgrade.
    headers = dict(build_websocket_headers(client_params=PARAMS, cookies=dict(fetched.cookies)))
    assert headers["Cookie"] == "ttwid=1|abc; tt_chain_token=xyz"


FETCH_FAILURES: list[tuple[Response, type[WebcastError], str]] = [
    (Response(200, (("X-Set-TT-Cookie", "a=1"),)), SignerError, "empty body"),
    (Response(200, (), FETCH_BODY), SignerError, "did not return cookies"),
    (
        Response(200, (("X-Set-TT-Cookie", "Path=/; Secure"),), FETCH_BODY),
        SignerError,
        "did not return cookies",
    ),
    (json_response({"code": 403, "message": "premium"}), SignatureRequired, "code 403"),
    (json_response({"code": 200, "message": "odd"}), SignerError, "got JSON: odd"),
    (Response(200, (), b"<html>blocked</html>"), SignerError, "HTML"),
    (json_response({"message": "Payment Required"}, status=402), SignatureRequired, "402"),
    (json_response({"message": "slow"}, ("Retry-After", "9"), status=429), RateLimited, "slow"),
    (Response(502, (), b"bad gateway"), SignerError, "HTTP 502"),
]


@pytest.mark.parametrize(("response", "error", "message"), FETCH_FAILURES)
def test_euler_fetch_response_failures(response: Response, error: type[WebcastError], message: str) -> None:
    """Empty body, no cookies, JSON/HTML for protobuf → SignerError; 402/403 premium; 429 rate limit."""
    with pytest.raises(error, match=message):
        EulerSigner().parse_fetch_response(response)


# --------------------------------------------------------------------------------------------
# Euler room id ([C2] last resort) and chat ([TL])
# --------------------------------------------------------------------------------------------


def test_euler_room_id_route() -> None:
    """``GET /webcast/anchors/{u}/room_id`` → room id and is_live; usable as a RoomIdRoute."""
    signer = EulerSigner(api_key=API_KEY)
    route = EulerRoomIdRoute(signer)
    request = route.build_request(unique_id="@someone", endpoints=ENDPOINTS, client_params=PARAMS)
    assert request.url == "https://api.eulerstream.com/webcast/anchors/someone/room_id"
    assert request.header("x-api-key") == API_KEY
    answer = {
        "code": 200,
        "ok": True,
        "is_live": True,
        "room_id": str(ROOM_ID),
        "source": "api",
        "routes_attempted": 1,
    }
    lookup = route.parse_response(json_response(answer), unique_id="someone")
    assert lookup == RoomLookup(room_id=ROOM_ID, unique_id="someone", is_live=True, source="sign_server")


def test_euler_room_id_failures() -> None:
    """``ok`` false or no room id → SignerError; code/HTTP 401-403 → SignatureRequired."""
    signer = EulerSigner()
    with pytest.raises(SignerError, match="no room id"):
        signer.parse_room_id_response(json_response({"code": 200, "ok": False, "message": "not found"}))
    with pytest.raises(SignatureRequired):
        signer.parse_room_id_response(json_response({"code": 403, "ok": False}))
    with pytest.raises(SignatureRequired):
        signer.parse_room_id_response(json_response({"message": "no"}, status=401))


def test_euler_chat() -> None:
    """[TL]: ``POST /webcast/chat`` with ``{content, targetRoomId}`` and the session in x-cookie-header."""
    signer = EulerSigner(api_key=API_KEY, session_id=SESSION, tt_target_idc="useast1a")
    request = signer.build_chat_request(room_id=ROOM_ID, content="hello")
    assert (request.method, request.url) == ("POST", "https://api.eulerstream.com/webcast/chat")
    assert json.loads(request.body) == {"content": "hello", "targetRoomId": str(ROOM_ID)}
    assert request.header("x-cookie-header") == f"sessionid={SESSION}; tt-target-idc=useast1a"
    sent = signer.parse_chat_response(json_response({"code": 200, "message": "ok", "data": {"id": 1}}))
    assert sent.raw == {"id": 1}
    with pytest.raises(SignatureRequired):
        signer.parse_chat_response(json_response({"message": "premium"}, status=403))


def test_euler_chat_checks_tiktoks_nested_answer() -> None:
    """[C2]'s ``data: {data, extra: {now}, status_code}``: 0 ok, 20003 InvalidSession, else APIError."""
    signer = EulerSigner(session_id=SESSION, tt_target_idc="useast1a")
    nested = {"data": {"content": "hi"}, "extra": {"now": 17}, "status_code": 0}
    sent = signer.parse_chat_response(json_response({"code": 200, "data": nested}))
    assert (sent.server_time, sent.raw) == (17, {"content": "hi"})
    with pytest.raises(InvalidSession):
        signer.parse_chat_response(json_response({"code": 200, "data": {"status_code": 20003}}))
    echoed = {"status_code": 4001, "data": {"message": f"bad session {SESSION}"}}
    with pytest.raises(APIError, match=r"API error 4001 \(bad session <redacted>\)") as info:
        signer.parse_chat_response(json_response({"code": 200, "data": echoed}))
    assert info.value.api_code == 4001


def test_euler_chat_refusals() -> None:
    """Chat needs a session and text."""
    with pytest.raises(ValueError, match="session"):
        EulerSigner().build_chat_request(room_id=1, content="hi")
    with pytest.raises(ValueError, match="empty"):
        EulerSigner(session_id=SESSION, tt_target_idc="x").build_chat_request(room_id=1, content=" ")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"session_id": SESSION}, "tt_target_idc"),
        ({"session_id": SESSION + ";x", "tt_target_idc": "a"}, "'sessionid'"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": API_KEY + "\n"}, "api_key"),
        ({"user_agent": ""}, "user agent"),
    ],
)
def test_euler_signer_validation_never_quotes_secrets(kwargs: dict[str, str], message: str) -> None:
    """A session needs tt_target_idc; key, session and UA must fit in a header; messages hide them."""
    with pytest.raises(ValueError, match=message) as info:
        EulerSigner(**kwargs)  # type: ignore[arg-type]  # str values for str | None fields
    assert SESSION not in str(info.value)
    assert API_KEY not in str(info.value)


# --------------------------------------------------------------------------------------------
# Old sign server ([S]/[V1], SPEC.md §2.7)
# --------------------------------------------------------------------------------------------


def test_legacy_sign_request() -> None:
    """``GET {host}webcast/sign_url?url=…&client=ttlive-node&uuc=…`` plus extra params and headers."""
    signer = LegacySigner(uuc=3, params=(("extra", "1"),), headers=(("X-Custom", "v"),))
    request = signer.sign_request(fetch_request())
    parts = urlsplit(request.url)
    assert (parts.netloc, parts.path) == ("tiktok.eulerstream.com", "/webcast/sign_url")
    assert parse_qsl(parts.query) == [
        ("url", fetch_request().url),
        ("client", "ttlive-node"),
        ("uuc", "3"),
        ("extra", "1"),
    ]
    assert request.header("x-custom") == "v"
    assert LegacySigner(base_url="http://127.0.0.1:1").base_url == "http://127.0.0.1:1/"


def test_legacy_sign_response_makes_ms_token_a_cookie() -> None:
    """``{signedUrl, User-Agent, msToken}``: the UA becomes the request's, msToken a cookie."""
    answer = {"signedUrl": SIGNED_URL, "User-Agent": SIGNED_UA, "msToken": "mst"}
    signed = LegacySigner().parse_sign_response(json_response(answer))
    assert signed == SignedUrl(url=SIGNED_URL, user_agent=SIGNED_UA, cookies=(("msToken", "mst"),))
    request = apply_signature(fetch_request(), signed)
    assert request.header("cookie") == "tt-target-idc=useast1a; ttwid=t; msToken=mst"
    bare = LegacySigner().parse_sign_response(json_response({"signedUrl": SIGNED_URL}))
    assert (bare.user_agent, bare.cookies) == (None, ())


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (json_response({"error": "x"}), SignerError),
        (json_response({"signedUrl": SIGNED_URL, "User-Agent": "a\rb"}), SignerError),
        (json_response({}, status=429), RateLimited),
        (json_response({}, status=403), SignatureRequired),
        (Response(200), SignerError),
    ],
)
def test_legacy_sign_response_failures(response: Response, error: type[WebcastError]) -> None:
    """No signedUrl, a bad UA, empty → SignerError; 429 RateLimited; 403 SignatureRequired."""
    with pytest.raises(error):
        LegacySigner().parse_sign_response(response)


# --------------------------------------------------------------------------------------------
# Secrets: a session id and an API key never show in a repr, an error or a URL
# --------------------------------------------------------------------------------------------


def echo(status: int, **fields: object) -> Response:
    """A hostile answer quoting our secrets back in every text field."""
    text = f"key {API_KEY} session {SESSION}"
    return json_response(
        {"code": fields.pop("code", status), "message": text, "error": text, **fields}, status=status
    )


def test_secrets_never_appear_in_reprs_urls_or_errors() -> None:
    """Build every request with a session id and an API key set, trigger every error path: neither
    string appears in any URL, any repr()/str() of a request, signer or result, or any raised error."""
    signer = EulerSigner(api_key=API_KEY, session_id=SESSION, tt_target_idc="useast1a")
    jar = {"sessionid": SESSION, "sessionid_ss": SESSION, "sid_tt": SESSION, "ttwid": "t"}
    common = {"endpoints": ENDPOINTS, "client_params": PARAMS, "cookies": jar}
    requests: list[Request] = [
        build_live_page_request(unique_id="someone", **common),  # type: ignore[arg-type]  # typed above
        build_room_id_api_request(unique_id="someone", **common),  # type: ignore[arg-type]
        build_room_info_request(room_id=ROOM_ID, **common),  # type: ignore[arg-type]
        build_gift_list_request(room_id=ROOM_ID, **common),  # type: ignore[arg-type]
        build_fetch_request(room_id=ROOM_ID, **common),  # type: ignore[arg-type]
        build_send_chat_request(room_id=ROOM_ID, text="hi", session_id=SESSION, **common),  # type: ignore[arg-type]
        signer.sign_request(fetch_request()),
        signer.build_fetch_request(room_id=ROOM_ID, user_agent=SIGNED_UA, platform="mobile"),
        signer.build_room_id_request(unique_id="someone"),
        signer.build_chat_request(room_id=ROOM_ID, content="hi"),
        LegacySigner(headers=(("X-Api-Key", API_KEY),)).sign_request(fetch_request()),
    ]
    shown: list[str] = [repr(signer), str(signer), repr(LegacySigner(headers=(("X-Api-Key", API_KEY),)))]
    for request in requests:
        shown += [request.url, repr(request), str(request)]
    ws_url = build_websocket_url(
        push_server="wss://webcast-ws.tiktok.com/ws/", route_params={}, client_params=PARAMS, room_id=ROOM_ID
    )
    shown.append(ws_url)
    fetched = signer.parse_fetch_response(
        Response(200, (("X-Set-TT-Cookie", f"sessionid={SESSION}"), ("Set-Cookie", API_KEY)), FETCH_BODY)
    )
    shown += [repr(fetched), repr(Response(200, (("Set-Cookie", f"sessionid={SESSION}"),), SESSION.encode()))]

    failing: list[Callable[[], object]] = [
        lambda: signer.parse_sign_response(echo(429)),
        lambda: signer.parse_sign_response(echo(403)),
        lambda: signer.parse_sign_response(echo(402)),
        lambda: signer.parse_sign_response(echo(500)),
        lambda: signer.parse_sign_response(echo(200, code=500)),
        lambda: signer.parse_sign_response(echo(200, code=403)),
        lambda: signer.parse_sign_response(echo(200, code=200)),
        lambda: signer.parse_fetch_response(echo(200, code=200)),
        lambda: signer.parse_fetch_response(echo(402)),
        lambda: signer.parse_fetch_response(Response(200, (), FETCH_BODY)),
        lambda: signer.parse_room_id_response(echo(200, code=200, ok=False)),
        lambda: signer.parse_chat_response(echo(200, code=401)),
        lambda: signer.parse_chat_response(
            echo(200, code=200, data={"status_code": 1, "data": {"message": SESSION}})
        ),
        lambda: apply_signature(requests[4], SignedUrl(url="https://evil.example/x")),
        lambda: parse_room_info_response(json_response({"data": {"prompts": "x"}, "status_code": 1})),
        lambda: parse_send_chat_response(json_response({"data": {}, "status_code": 20003})),
        lambda: parse_send_chat_response(Response(429, (("Retry-After", "1"),), b"{}")),
        lambda: build_send_chat_request(
            endpoints=ENDPOINTS, client_params=PARAMS, room_id=1, text=SESSION, session_id=SESSION
        ),
        lambda: build_send_chat_request(
            endpoints=ENDPOINTS, client_params=PARAMS, room_id=1, text="hi", session_id=SESSION + " x"
        ),
        lambda: EulerSigner(api_key=API_KEY + "\x00"),
        lambda: EulerSigner(session_id=SESSION),
    ]
    for call in failing:
        with pytest.raises((WebcastError, ValueError)) as info:
            call()
        shown += [str(info.value), repr(info.value)]

    for text in shown:
        assert API_KEY not in text
        assert SESSION not in text
