"""Every HTTP route of the mock server answers with SPEC.md §2's shapes: checked on the raw answer,
and by feeding it to the core's own request builders and parsers (webcast_proto.http, .signing)."""

from __future__ import annotations

import re
import socket

import httpcore
import pytest
from test_mock_clients import get, post

from webcast_proto import (
    AgeRestricted,
    InvalidSession,
    UserNotFound,
    UserOffline,
    codec,
    fixtures,
    http,
    signing,
)
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.config import ClientParams
from webcast_transports.mock import ChatSent, HttpRecord, MockWebcastServer, Options, Room

CLIENT = ClientParams()
ROOMS = [
    Room("alice", scenario="quiet", nickname="Alice </script> 🌸"),
    Room("off", status="offline"),
    Room("kid", status="age_restricted"),
    Room("ghost", status="not_found"),
]


@pytest.fixture(scope="module")
def server() -> object:
    with MockWebcastServer(ROOMS) as running:
        yield running


def perform(request: http.Request) -> http.Response:
    """Perform a core-built request over loopback with httpcore."""
    answer = httpcore.request(
        request.method, request.url, headers=list(request.headers), content=request.body
    )
    headers = tuple((k.decode(), v.decode()) for k, v in answer.headers)
    return http.Response(answer.status, headers, answer.content)


# ---------------------------------------------------------------------------------------------
# The website (SPEC.md §2.2)
# ---------------------------------------------------------------------------------------------


def test_live_page_carries_the_room_in_sigi_state(server: MockWebcastServer) -> None:
    """``/@user/live`` has SIGI_STATE with LiveRoom.liveRoomUserInfo.user.roomId; both parsers find it."""
    endpoints = server.endpoints()
    request = http.build_live_page_request(endpoints=endpoints, client_params=CLIENT, unique_id="alice")
    response = perform(request)
    alice = server.room("alice")
    assert response.header("content-type") == "text/html; charset=utf-8"
    lookup = http.parse_live_page(response, unique_id="alice")
    assert (lookup.room_id, lookup.unique_id, lookup.is_live) == (alice.room_id, "alice", True)
    assert http.parse_live_page_legacy(response, unique_id="alice").room_id == alice.room_id
    text = response.body.decode()
    assert f'"roomId":"{alice.room_id}"' in text  # the old regex's marker, no space
    assert f"room_id={alice.room_id}" in text
    assert 'property="og:url"' in text
    assert "</script> 🌸" not in text  # the nickname cannot close the script element
    assert "Alice <\\/script> 🌸" in text


def test_live_page_of_an_offline_user_says_status_4(server: MockWebcastServer) -> None:
    """An offline user's page keeps the room id with user.status and liveRoom.status 4."""
    response = perform(
        http.build_live_page_request(endpoints=server.endpoints(), client_params=CLIENT, unique_id="off")
    )
    assert http.parse_live_page(response, unique_id="off").is_live is False
    assert '"status":4' in response.body.decode()


@pytest.mark.parametrize("name", ["ghost", "nobody"])
def test_live_page_of_an_unknown_user_has_no_live_room(server: MockWebcastServer, name: str) -> None:
    """A not-found or unknown user's page has SIGI_STATE without LiveRoom: user not found."""
    response = perform(
        http.build_live_page_request(endpoints=server.endpoints(), client_params=CLIENT, unique_id=name)
    )
    assert response.status_code == 200
    assert 'id="SIGI_STATE"' in response.body.decode()
    with pytest.raises(UserNotFound):
        http.parse_live_page(response, unique_id=name)


def test_user_page_maps_a_numeric_user_id_to_the_username(server: MockWebcastServer) -> None:
    """``/@{userId}`` carries __UNIVERSAL_DATA_FOR_REHYDRATION__ with webapp.user-detail (SPEC.md §2.2)."""
    alice = server.room("alice").room
    text = get(f"{server.base_url}/@{alice.user_id}").body.decode()
    assert '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__"' in text
    assert '"webapp.user-detail"' in text
    assert '"uniqueId":"alice"' in text
    assert '"uniqueId"' not in get(f"{server.base_url}/@123").body.decode()


@pytest.mark.parametrize(("name", "is_live"), [("alice", True), ("off", False), ("kid", True)])
def test_room_id_api(server: MockWebcastServer, name: str, is_live: bool) -> None:
    """``/api-live/user/room/``: statusCode 0, data.user.roomId and data.liveRoom.status (2 or 4)."""
    response = perform(
        http.build_room_id_api_request(endpoints=server.endpoints(), client_params=CLIENT, unique_id=name)
    )
    lookup = http.parse_room_id_api_response(response, unique_id=name)
    assert lookup.room_id == server.room(name).room_id
    assert lookup.is_live is is_live


def test_room_id_api_of_an_unknown_user(server: MockWebcastServer) -> None:
    """An unknown user: HTTP 200, statusCode 19881007, message user_not_found (SPEC.md §9)."""
    reply = get(f"{server.base_url}/api-live/user/room/", params={"uniqueId": "nobody", "sourceType": "54"})
    assert reply.status == 200
    assert reply.json()["statusCode"] == 19881007
    assert reply.json()["message"] == "user_not_found"
    with pytest.raises(UserNotFound):
        http.parse_room_id_api_response(http.Response(reply.status, (), reply.body), unique_id="nobody")


# ---------------------------------------------------------------------------------------------
# The WebCast API (SPEC.md §2.3, §2.4, §10)
# ---------------------------------------------------------------------------------------------


def _room_info(
    server: MockWebcastServer, room_id: int, cookies: dict[str, str] | None = None
) -> http.Response:
    request = http.build_room_info_request(
        endpoints=server.endpoints(), client_params=CLIENT, room_id=room_id, cookies=cookies
    )
    return perform(request)


def test_room_info_of_a_live_room(server: MockWebcastServer) -> None:
    """room/info: ``{data, extra, status_code}`` with status 2, the owner and the stream URLs."""
    alice = server.room("alice")
    response = _room_info(server, alice.room_id)
    info = http.parse_room_info_response(response)
    assert info.room_id == alice.room_id
    assert info.status == 2
    assert info.owner is not None
    assert info.owner.unique_id == "alice"
    assert info.owner.nickname == "Alice </script> 🌸"
    assert info.hls_pull_url is not None
    assert info.stream_data is not None
    assert info.stream_data.startswith("{")


def test_room_info_of_an_offline_room(server: MockWebcastServer) -> None:
    """An ended room has status 4 (SPEC.md §2.3)."""
    with pytest.raises(UserOffline):
        http.parse_room_info_response(_room_info(server, server.room("off").room_id))


def test_room_info_of_an_age_restricted_room(server: MockWebcastServer) -> None:
    """Age-restricted: ``data`` holds only ``prompts``, unless the request has a session (SPEC.md §2.3)."""
    kid = server.room("kid").room_id
    with pytest.raises(AgeRestricted):
        http.parse_room_info_response(_room_info(server, kid))
    assert http.parse_room_info_response(_room_info(server, kid, {"sessionid": "abc"})).status == 2


def test_room_info_of_an_unknown_room(server: MockWebcastServer) -> None:
    """An unknown room id: a non-zero status_code and no data (not mistakable for age restriction)."""
    reply = get(f"{server.base_url}/webcast/room/info/", params={"room_id": "123"})
    assert reply.json()["status_code"] != 0
    assert reply.json()["data"] is None


def test_check_alive_answers_in_request_order(server: MockWebcastServer) -> None:
    """room/check_alive: ``data[i].alive`` in the order of ``room_ids`` (SPEC.md §2.1)."""
    ids = [server.room("off").room_id, server.room("alice").room_id, 5, server.room("kid").room_id]
    request = http.build_check_alive_request(endpoints=server.endpoints(), client_params=CLIENT, room_ids=ids)
    assert http.parse_check_alive_response(perform(request)) == (False, True, False, True)


def test_gift_list_matches_the_fixture_gifts(server: MockWebcastServer) -> None:
    """gift/list: ``data.gifts[]`` with id, name, diamond_count; the catalogue is the fixtures' one."""
    request = http.build_gift_list_request(
        endpoints=server.endpoints(), client_params=CLIENT, room_id=server.room("alice").room_id
    )
    gifts = {g.id: g for g in http.parse_gift_list_response(perform(request))}
    assert set(gifts) == set(fixtures.GIFTS)
    assert (gifts[5655].name, gifts[5655].diamond_count) == ("Rose", 1)
    message = fixtures.gift(5655)
    assert gifts[5655].image_url == message.gift.image.url_list[0]


def test_first_fetch_offers_the_push_server(server: MockWebcastServer) -> None:
    """im/fetch without cursor: initial data, cursor, is_first, push_server on this server, route params."""
    alice = server.room("alice")
    alice.push(fixtures.chat("history", msg_id=1001))
    request = http.build_fetch_request(
        endpoints=server.endpoints(), client_params=CLIENT, room_id=alice.room_id
    )
    response = perform(request)
    assert response.header("content-type") == "application/x-protobuf"
    result = codec.parse_fetch_result(http.parse_fetch_response(response))
    assert result.is_first
    assert result.cursor
    assert result.push_server == server.ws_url
    assert dict(result.route_params)
    assert not result.need_ack
    assert 1001 in [m.msg_id for m in result.messages]


def test_polling_returns_what_came_after_the_cursor(server: MockWebcastServer) -> None:
    """A fetch with the last cursor gets exactly the newer messages (SPEC.md §5), and still offers the
    push server, so a client resuming after a lost socket can go back to it."""
    alice = server.room("alice")
    first = codec.parse_fetch_result(
        get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(alice.room_id)}).body
    )
    alice.push(fixtures.chat("one", msg_id=2001), fixtures.like(msg_id=2002))
    params = {"room_id": str(alice.room_id), "cursor": first.cursor, "internal_ext": first.internal_ext}
    poll = get(f"{server.base_url}/webcast/im/fetch/", params=params).fetch_result()
    assert [m.msg_id for m in poll.messages] == [2001, 2002]
    assert not poll.is_first
    assert poll.push_server == server.ws_url
    assert poll.route_params["wrss"]
    again = get(
        f"{server.base_url}/webcast/im/fetch/", params={**params, "cursor": poll.cursor}
    ).fetch_result()
    assert list(again.messages) == []


def test_fetch_edge_cases(server: MockWebcastServer) -> None:
    """Unknown room: empty body (every client reports a missing cursor); a foreign cursor: 400; an
    ended room: the stream end (control action 3) and no push server."""
    unknown = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": "123"})
    assert (unknown.status, unknown.body) == (200, b"")
    foreign = get(
        f"{server.base_url}/webcast/im/fetch/",
        params={"room_id": str(server.room("alice").room_id), "cursor": "somebody-else's"},
    )
    assert foreign.status == 400
    ended = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": str(server.room("off").room_id)})
    result = ended.fetch_result()
    assert result.push_server == ""
    (control,) = [m for m in result.messages if m.method == "WebcastControlMessage"]
    assert pb.WebcastControlMessage.FromString(control.payload).action == 3


def test_a_room_without_websocket_makes_clients_poll() -> None:
    """``offer_websocket=False``: the first fetch offers no push server (SPEC.md §1 step 7)."""
    with MockWebcastServer([Room("poll", scenario="quiet", offer_websocket=False)]) as server:
        room_id = str(server.room("poll").room_id)
        result = get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": room_id}).fetch_result()
    assert result.push_server == ""
    assert dict(result.route_params) == {}
    assert result.cursor


def test_send_chat_with_a_session(server: MockWebcastServer) -> None:
    """room/chat with a session: status_code 0; the text and session are recorded; the chat appears."""
    alice = server.room("alice")
    request = http.build_send_chat_request(
        endpoints=server.endpoints(), client_params=CLIENT, room_id=alice.room_id, text="hi from the test",
        session_id="sess-123",
    )  # fmt: skip
    http.parse_send_chat_response(perform(request))
    chat = server.recorder.wait_for(ChatSent, where=lambda c: c.content == "hi from the test")[0]
    assert chat.session_id == "sess-123"
    assert chat.accepted
    assert chat.route == "room_chat"
    last = alice.messages()[-1]
    assert pb.WebcastChatMessage.FromString(last.payload).content == "hi from the test"


def test_send_chat_without_a_session_is_refused(server: MockWebcastServer) -> None:
    """No session cookie: status_code 20003 (SPEC.md §10); recorded as not accepted."""
    params = {"room_id": str(server.room("alice").room_id), "content": "anonymous"}
    reply = post(f"{server.base_url}/webcast/room/chat/", params=params)
    assert reply.json()["status_code"] == 20003
    with pytest.raises(InvalidSession):
        http.parse_send_chat_response(http.Response(reply.status, (), reply.body))
    (chat,) = server.recorder.wait_for(ChatSent, where=lambda c: c.content == "anonymous")
    assert chat.session_id is None
    assert not chat.accepted


def test_send_chat_checks_the_session_when_told_which_are_valid() -> None:
    """``Options(session_ids=…)``: only those sessions may chat; others get 20003."""
    with MockWebcastServer(
        [Room("alice", scenario="quiet")], options=Options(session_ids=frozenset({"ok"}))
    ) as srv:
        params = {"room_id": str(srv.room("alice").room_id), "content": "x"}
        good = post(f"{srv.base_url}/webcast/room/chat/", params=params, headers={"Cookie": "sessionid=ok"})
        bad = post(f"{srv.base_url}/webcast/room/chat/", params=params, headers={"Cookie": "sid_tt=expired"})
    assert good.json()["status_code"] == 0
    assert bad.json()["status_code"] == 20003


# ---------------------------------------------------------------------------------------------
# The sign server (SPEC.md §2.6, §2.7)
# ---------------------------------------------------------------------------------------------


def test_sign_url_for_the_current_peers(server: MockWebcastServer) -> None:
    """``POST /webcast/sign_url``: signedUrl with msToken, X-Bogus, X-Gnarly, and the UA to use."""
    signer = signing.EulerSigner(endpoints=server.endpoints())
    fetch = http.build_fetch_request(
        endpoints=server.endpoints(), client_params=CLIENT, room_id=server.room("alice").room_id
    )
    sign_request = signer.sign_request(fetch)
    assert sign_request is not None
    signed = signer.parse_sign_response(perform(sign_request))
    assert re.search(r"[?&]msToken=mock[0-9a-f]+", signed.url)
    assert "X-Bogus=" in signed.url
    assert signed.user_agent is not None
    assert signed.user_agent.startswith("Mozilla/5.0")
    signed_fetch = signing.apply_signature(fetch, signed)
    assert codec.parse_fetch_result(http.parse_fetch_response(perform(signed_fetch))).cursor


def test_sign_url_strips_old_signatures_and_c2_route(server: MockWebcastServer) -> None:
    """``POST /tiktok/sign_url`` ([C2]) answers the same; old X-Bogus/msToken are replaced, not kept."""
    url = f"{server.base_url}/webcast/im/fetch/?room_id=1&X-Bogus=old&msToken=old"
    reply = post(
        f"{server.base_url}/tiktok/sign_url", params={"client": "ttlive-node"}, json_body={"url": url}
    )
    body = reply.json()
    assert body["code"] == 200
    response = body["response"]
    assert isinstance(response, dict)
    assert "old" not in response["signedUrl"]
    assert set(response["tokens"]) == {"msToken", "X-Bogus", "X-Gnarly"}
    assert post(f"{server.base_url}/tiktok/sign_url", json_body={}).status == 400


def test_old_sign_server_route(server: MockWebcastServer) -> None:
    """``GET /webcast/sign_url?url=…`` ([S]/[V1]): signedUrl, User-Agent, msToken (SPEC.md §2.7)."""
    signer = signing.LegacySigner(base_url=f"{server.base_url}/")
    fetch = http.build_fetch_request(endpoints=server.endpoints(), client_params=CLIENT, room_id=1)
    sign_request = signer.sign_request(fetch)
    assert sign_request is not None
    signed = signer.parse_sign_response(perform(sign_request))
    assert "msToken=" in signed.url
    assert dict(signed.cookies)["msToken"].startswith("mock")
    assert get(f"{server.base_url}/webcast/sign_url").status == 400


def test_first_fetch_by_proxy_tiktoklive(server: MockWebcastServer) -> None:
    """[TL] ``GET /webcast/fetch``: raw fetch result, X-Set-TT-Cookie and the ids (SPEC.md §2.6)."""
    alice = server.room("alice")
    signer = signing.EulerSigner(endpoints=server.endpoints())
    proxied = signer.parse_fetch_response(
        perform(signer.build_fetch_request(room_id=alice.room_id, user_agent="UA"))
    )
    assert dict(proxied.cookies).keys() >= {"ttwid"}
    result = codec.parse_fetch_result(proxied.body)
    assert result.is_first
    assert result.push_server == server.ws_url
    assert dict(result.route_params)


def test_first_fetch_by_proxy_connector(server: MockWebcastServer) -> None:
    """[C2] ``GET /webcast/rooms/{id}/connect``: the same body, x-set-tt-cookie (ttwid first), x-room-id."""
    alice = server.room("alice")
    reply = get(
        f"{server.base_url}/webcast/rooms/{alice.room_id}/connect",
        params={"client": "ttlive-node", "cursor": "", "client_enter": "true", "platform": "web"},
        headers={"Accept": "application/protobuf,application/json"},
    )
    assert reply.status == 200
    assert reply.headers["x-set-tt-cookie"].startswith("ttwid=")
    assert reply.headers["x-room-id"] == str(alice.room_id)
    assert reply.headers["x-request-id"]
    assert reply.headers["x-agent-id"]
    assert reply.fetch_result().push_server == server.ws_url
    assert get(f"{server.base_url}/webcast/rooms/123/connect").status == 404


def test_room_id_by_sign_server(server: MockWebcastServer) -> None:
    """[C2] ``GET /webcast/anchors/{user}/room_id``: ``{code, ok, is_live, room_id, source …}``."""
    signer = signing.EulerSigner(endpoints=server.endpoints())
    lookup = signer.parse_room_id_response(
        perform(signer.build_room_id_request(unique_id="off")), unique_id="off"
    )
    assert lookup.room_id == server.room("off").room_id
    assert lookup.is_live is False
    reply = get(f"{server.base_url}/webcast/anchors/nobody/room_id")
    assert reply.status == 404
    assert reply.json()["ok"] is False


def test_chat_through_the_sign_server(server: MockWebcastServer) -> None:
    """[TL] ``POST /webcast/chat`` and [C2] ``POST /webcast/rooms/{id}/chat`` with x-cookie-header."""
    alice = server.room("alice")
    signer = signing.EulerSigner(endpoints=server.endpoints(), session_id="sess-tl", tt_target_idc="useast1a")
    signer.parse_chat_response(perform(signer.build_chat_request(room_id=alice.room_id, content="via TL")))
    reply = post(
        f"{server.base_url}/webcast/rooms/{alice.room_id}/chat",
        json_body={"content": "via C2"},
        headers={"x-cookie-header": "sessionid=sess-c2; tt-target-idc=useast1a"},
    )
    assert reply.json()["code"] == 200
    refused = post(
        f"{server.base_url}/webcast/chat", json_body={"content": "no session", "targetRoomId": "1"}
    )
    assert refused.status == 401
    chats = {c.content: c for c in server.recorder.of(ChatSent)}
    assert chats["via TL"].session_id == "sess-tl"
    assert chats["via C2"].session_id == "sess-c2"
    assert chats["via C2"].route == "sign_chat_c2"
    assert not chats["no session"].accepted


def test_sign_server_api_key() -> None:
    """With an API key set, sign routes want it in X-Api-Key (or apiKey), else 401; TikTok routes don't."""
    options = Options(api_key="k3y")
    with MockWebcastServer([Room("alice", scenario="quiet")], options=options) as server:
        room_id = str(server.room("alice").room_id)
        assert get(f"{server.base_url}/webcast/fetch", params={"room_id": room_id}).status == 401
        assert (
            get(f"{server.base_url}/webcast/fetch", params={"room_id": room_id, "apiKey": "k3y"}).status
            == 200
        )
        signer = signing.EulerSigner(endpoints=server.endpoints(), api_key="k3y")
        assert perform(signer.build_fetch_request(room_id=int(room_id), user_agent="UA")).status_code == 200
        assert get(f"{server.base_url}/webcast/im/fetch/", params={"room_id": room_id}).status == 200
        assert "k3y" not in repr(server.recorder.all())


# ---------------------------------------------------------------------------------------------
# HTTP itself
# ---------------------------------------------------------------------------------------------


def test_unknown_routes_get_a_json_404(server: MockWebcastServer) -> None:
    """An unknown path, or a known one with the wrong method, is a JSON 404 and is recorded."""
    assert get(f"{server.base_url}/nope").status == 404
    assert post(f"{server.base_url}/webcast/gift/list/").status == 404
    assert server.recorder.wait_for(HttpRecord, where=lambda r: r.path == "/nope")[0].route == "not_found"


def test_keep_alive_serves_many_requests_on_one_connection(server: MockWebcastServer) -> None:
    """HTTP/1.1 keep-alive: several requests over one TCP connection."""
    with httpcore.ConnectionPool(max_connections=1) as pool:
        for _ in range(3):
            assert pool.request("GET", f"{server.base_url}/webcast/gift/list/").status == 200
    records = [r for r in server.recorder.of(HttpRecord) if r.route == "gift_list"][-3:]
    assert len({r.connection_id for r in records}) == 1


def _raw_exchange(server: MockWebcastServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_request_gets_400(server: MockWebcastServer) -> None:
    """Bytes that are not HTTP/1.1 get a 400 and the connection is closed."""
    assert _raw_exchange(server, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_oversized_body_gets_413(server: MockWebcastServer) -> None:
    """A request body over 1 MiB gets a 413."""
    reply = post(f"{server.base_url}/webcast/room/chat/", body=b"x" * (1024 * 1024 + 1))
    assert reply.status == 413
