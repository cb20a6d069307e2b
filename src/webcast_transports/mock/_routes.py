"""The routes: TikTok's website and WebCast API, the push socket's handshake, the sign server.

Each route is one function ``(host, request, match) -> Response | Upgrade``, found in a table by
method and path pattern (STYLE.md §2: a table, not an if/elif chain). Handlers do no I/O: they read
and update the rooms through :class:`Host` (the server) and describe the answer; the server writes
it. Paths and shapes are SPEC.md §2's; one server plays all three hosts (website, webcast, sign
server), as ``Endpoints.from_base_url`` expects, since their paths do not collide.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from webcast_proto import RemoteProtocolError, fixtures
from webcast_transports.mock import _pages
from webcast_transports.mock._push import fetch_body
from webcast_transports.mock._record import ChatSent, Record
from webcast_transports.mock._rooms import RoomStatus

if TYPE_CHECKING:
    from webcast_proto._pb import webcast_pb2 as pb
    from webcast_transports.mock._pages import GiftInfo
    from webcast_transports.mock._rooms import RoomDirectory, RoomState

__all__ = [
    "DEFAULT_WS_PATH",
    "Host",
    "HttpRequest",
    "Options",
    "Response",
    "Upgrade",
    "dispatch",
    "fault_response",
    "request_room",
]

DEFAULT_WS_PATH = "/webcast/im/ws_proxy/ws_reuse_supplement/"
# Other push paths TikTok has served; the handshake is accepted on any of them.
_OTHER_WS_PATHS = ("/webcast/im/push/v2/", "/webcast/im/ws_proxy/")

# SPEC.md §10: room/chat's status_code for an expired or missing session.
SESSION_INVALID = 20003

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json; charset=utf-8"
_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """How the mock server behaves; every default is what TikTok (or the sign server) is known to do.

    Args:
        speed: how many times faster than written the scenarios play (e.g. 10 in tests).
        heartbeat_interval: the ``ping-interval`` announced in ``Handshake-Options`` (seconds, §2.5).
        fetch_interval_ms: the fetch result's suggested polling period (§5).
        initial_count: how many recent messages a first fetch returns as initial data.
        compress: gzip ``msg`` frames always (``True``), never (``False``), or when the socket URL
            says ``compress=gzip`` (``None``, §4.2).
        answer_pings: answer WebSocket pings (TikTok does not, §2.5).
        strict: close a socket whose client breaks the protocol (bad ack, wrong room …) with the
            violation's close code; otherwise violations are only recorded.
        require_ws_token: refuse sockets without the route-param token of a first fetch.
        ws_token_ttl: seconds a first fetch's socket URL stays valid ([TL]: ~30 s); ``None``: forever.
        api_key: when set, the sign-server routes want it in ``X-Api-Key`` / ``apiKey`` (§2.6).
        session_ids: the session ids chat accepts; ``None`` accepts any non-empty one.
        enter_room_resp: answer ``im_enter_room`` with an ``im_enter_room_resp`` frame.
        echo_chat: a chat sent through the API appears in the room as a chat message.
        stream_end_close_delay: seconds after a stream end before the server closes the sockets
            clients have not closed themselves (they disconnect on it, SPEC.md §1.9).
        gifts: the gift catalogue of ``gift/list``.
    """

    speed: float = 1.0
    heartbeat_interval: float = 10.0
    fetch_interval_ms: int = 1000
    initial_count: int = 20
    compress: bool | None = None
    answer_pings: bool = False
    strict: bool = False
    require_ws_token: bool = False
    ws_token_ttl: float | None = None
    api_key: str | None = None
    session_ids: frozenset[str] | None = None
    enter_room_resp: bool = True
    echo_chat: bool = True
    stream_end_close_delay: float = 1.0
    gifts: tuple[GiftInfo, ...] = ()

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if self.heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be > 0, got {self.heartbeat_interval}")
        if self.stream_end_close_delay < 0:
            raise ValueError(f"stream_end_close_delay must be >= 0, got {self.stream_end_close_delay}")
        if self.initial_count < 0:
            raise ValueError(f"initial_count must be >= 0, got {self.initial_count}")
        if not self.gifts:
            catalogue = tuple(
                _pages.GiftInfo(gift_id, name, diamonds, kind)
                for gift_id, (name, diamonds, kind) in fixtures.GIFTS.items()
            )
            object.__setattr__(self, "gifts", catalogue)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as the routes see it: decoded query, lower-cased header names, whole body."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    connection_id: int = 0

    @classmethod
    def from_target(
        cls, method: str, target: str, headers: tuple[tuple[str, str], ...], body: bytes, connection_id: int
    ) -> HttpRequest:
        """Split a request target into path and decoded query."""
        parts = urlsplit(target)
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        return cls(method, parts.path or "/", query, headers, body, connection_id)

    def param(self, name: str, default: str = "") -> str:
        """The first query parameter called ``name``, or ``default``."""
        return next((v for k, v in self.query if k == name), default)

    def header(self, name: str, default: str = "") -> str:
        """The first header called ``name`` (lower-case), or ``default``."""
        return next((v for k, v in self.headers if k == name), default)

    def cookies(self, header: str = "cookie") -> dict[str, str]:
        """The cookies of every ``header`` line (``cookie`` or ``x-cookie-header``)."""
        jar: dict[str, str] = {}
        for name, value in self.headers:
            if name == header:
                for item in value.split(";"):
                    key, sep, val = item.strip().partition("=")
                    if sep:
                        jar[key] = val
        return jar

    def json_body(self) -> dict[str, object]:
        """The body as a JSON object; ``{}`` if it is not one."""
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def is_websocket_upgrade(self) -> bool:
        """An RFC 6455 opening handshake: ``Upgrade: websocket`` and ``Connection: upgrade``."""
        connection = {token.strip().lower() for token in self.header("connection").split(",")}
        return self.header("upgrade").lower() == "websocket" and "upgrade" in connection


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer to write."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Upgrade:
    """Accept the WebSocket handshake and run a push socket.

    Attributes:
        state: the room the socket watches.
        cursor: the cursor in the socket URL, if any (it wins when it is one of ours).
        position: otherwise, the log position the client holds; later messages are replayed first.
        compress: gzip the ``msg`` frames.
        subprotocol: the subprotocol to echo (the first the client offered), or ``None``.
        headers: extra headers of the 101 answer (``Handshake-Options``).
    """

    state: RoomState
    cursor: str
    position: int
    compress: bool
    subprotocol: str | None
    headers: tuple[tuple[str, str], ...] = ()


class Host(Protocol):
    """What the routes need from the server."""

    @property
    def directory(self) -> RoomDirectory: ...
    @property
    def options(self) -> Options: ...
    @property
    def base_url(self) -> str: ...
    @property
    def ws_url(self) -> str: ...

    def now(self) -> float:
        """Seconds since the server started (monotonic)."""

    def now_ms(self) -> int:
        """Wall-clock time in ms, as TikTok stamps its answers."""

    def publish(self, state: RoomState, messages: list[pb.BaseProtoMessage]) -> None:
        """Append messages to a room's log and push them to its sockets."""

    def record(self, record: Record) -> None:
        """Keep a record of what a client did."""


Handler = Callable[["Host", HttpRequest, "re.Match[str]"], "Response | Upgrade"]


@dataclass(frozen=True, slots=True)
class _Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    sign_server: bool = False


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def json_response(value: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, (("content-type", _JSON), *headers), body)


def _html(text: str, status: int = 200) -> Response:
    return Response(status, (("content-type", _HTML),), text.encode())


def _session_id(request: HttpRequest, header: str = "cookie") -> str | None:
    jar = request.cookies(header)
    for name in ("sessionid", "sessionid_ss", "sid_tt"):
        if jar.get(name):
            return jar[name]
    return None


def _session_ok(host: Host, session: str | None) -> bool:
    allowed = host.options.session_ids
    return bool(session) and (allowed is None or session in allowed)


def _opaque(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def request_room(directory: RoomDirectory, request: HttpRequest) -> RoomState | None:
    """The room a request is about, if it names one (room id or username, in the query or path)."""
    for name in ("room_id", "roomId", "targetRoomId"):
        state = directory.by_id(request.param(name) or None)
        if state is not None:
            return state
    match = re.match(r"^/webcast/rooms/(\d+)/|^/@([^/]+)", request.path)
    if match and match.group(1):
        return directory.by_id(match.group(1))
    if match and match.group(2):
        return directory.by_name(match.group(2)) or directory.by_user_id(match.group(2))
    anchor = re.match(r"^/webcast/anchors/([^/]+)/", request.path)
    if anchor:
        return directory.by_name(anchor.group(1))
    for name in ("uniqueId", "unique_id"):
        if request.param(name):
            return directory.by_name(request.param(name))
    return None


def fault_response(status: int, retry_after: float | None, message: str, *, sign_server: bool) -> Response:
    """The answer of an :class:`~._scenarios.HttpFault`: a JSON error with the rate-limit headers.

    429 carries every header any peer reads the delay from (SPEC.md §2.6, §11: ``Retry-After``,
    ``RateLimit-Reset``, ``X-RateLimit-Reset`` …), plus ``{message, limit_label}`` from the sign server.
    """
    headers: list[tuple[str, str]] = []
    if retry_after is not None:
        seconds = f"{retry_after:g}"
        headers += [("retry-after", seconds), ("ratelimit-reset", seconds), ("x-ratelimit-reset", seconds)]
    if status == 429:
        headers.append(("ratelimit-remaining", "0"))
    text = message or ("Too many requests" if status == 429 else "Service unavailable")
    body: dict[str, object] = {"message": text}
    if status == 429 and sign_server:
        body["limit_label"] = "mock"
    elif not sign_server:
        body = {"status_code": status, "message": text, "data": {"message": text}}
    return json_response(body, status, tuple(headers))


# ---------------------------------------------------------------------------------------------
# TikTok website (SPEC.md §2.2)
# ---------------------------------------------------------------------------------------------


def _live_page(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    name = match.group("user")
    return _html(_pages.live_page(name, host.directory.by_name(name), host.now_ms()))


def _user_page(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    key = match.group("user")
    state = host.directory.by_user_id(key) if key.isdigit() else host.directory.by_name(key)
    return _html(_pages.user_page(state))


def _api_room(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    state = host.directory.by_name(request.param("uniqueId"))
    return json_response(_pages.api_room(state, host.now_ms()))


# ---------------------------------------------------------------------------------------------
# WebCast API (SPEC.md §2.3, §2.4, §10)
# ---------------------------------------------------------------------------------------------


def _room_info(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    state = host.directory.by_id(request.param("room_id"))
    info = _pages.room_info(
        state, host.now_ms(), has_session=_session_id(request) is not None, base_url=host.base_url
    )
    return json_response(info)


def _check_alive(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    ids = [i for i in request.param("room_ids").split(",") if i]
    return json_response(_pages.check_alive(ids, [host.directory.by_id(i) for i in ids], host.now_ms()))


def _gift_list(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    return json_response(_pages.gift_list(host.options.gifts, host.now_ms()))


def _fetch(host: Host, state: RoomState, cursor: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """A fetch result: a first fetch (no cursor) with initial data, or one from a cursor (a poll, or a
    client resuming after a lost socket). Every fetch of a live room offers the push server: a client
    upgrades only on the first fetch of a (re)start, and [C2] resumes through a first fetch that
    carries its cursor (SPEC.md §2.6).

    An ended room's first fetch carries the stream end (SPEC.md §8: control action 3). A cursor
    this server did not issue gets a 400 (``ServerConnection`` refuses it).
    """
    if not cursor and state.status is RoomStatus.OFFLINE:
        recent = state.recent(host.options.initial_count)
        if not any(entry.message.method == "WebcastControlMessage" for entry in recent):
            host.publish(state, [fixtures.wrap(fixtures.control(3, room_id=state.room.room_id))])
    offer = state.room.offer_websocket and state.status is not RoomStatus.OFFLINE
    token = host.directory.issue_token(state.room.room_id, state.position, host.now()) if offer else ""
    options = host.options
    try:
        body = fetch_body(
            state,
            cursor,
            now_ms=host.now_ms(),
            push_server=host.ws_url if offer else "",
            route_params={"wrss": token} if offer else None,
            fetch_interval_ms=options.fetch_interval_ms,
            heartbeat_duration_ms=int(options.heartbeat_interval * 1000),
            initial_messages=options.initial_count,
        )
    except RemoteProtocolError as exc:
        return json_response({"status_code": 400, "message": str(exc)}, 400)
    return Response(200, (("content-type", _PROTOBUF), *headers), body)


def _im_fetch(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """im/fetch: the first fetch (no cursor) or a poll (SPEC.md §2.4, §5). Unknown room: an empty
    body, which every client reports as a missing cursor."""
    state = host.directory.by_id(request.param("room_id"))
    if state is None:
        return Response(200, (("content-type", _PROTOBUF),), b"")
    return _fetch(host, state, request.param("cursor"))


def _chat_accept(
    host: Host, request: HttpRequest, state: RoomState | None, content: str, session: str | None, route: str
) -> bool:
    ok = state is not None and _session_ok(host, session) and bool(content)
    host.record(
        ChatSent(
            at=host.now(), connection_id=request.connection_id,
            room_id=0 if state is None else state.room.room_id,
            content=content, session_id=session, route=route, accepted=ok,
        )
    )  # fmt: skip
    if ok and state is not None and host.options.echo_chat:
        speaker = fixtures.user(
            user_id=int(_opaque("viewer", session)[:15], 16), nickname="You", unique_id="mock.viewer"
        )
        message = fixtures.chat(content, user=speaker, room_id=state.room.room_id, create_time=host.now_ms())
        host.publish(state, [fixtures.wrap(message)])
    return ok


def _room_chat(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """room/chat ([S]/[V1], SPEC.md §10): ``{status_code, data, extra: {now}}``; 20003 without a
    valid session."""
    state = host.directory.by_id(request.param("room_id"))
    content = request.param("content")
    session = _session_id(request)
    extra = {"now": host.now_ms()}
    if not _chat_accept(host, request, state, content, session, "room_chat"):
        if state is None and _session_ok(host, session):
            return json_response(
                {"status_code": 4003110, "data": {"message": "room not found"}, "extra": extra}
            )
        message = "Please login first" if session is None else "Your session has expired"
        return json_response({"status_code": SESSION_INVALID, "data": {"message": message}, "extra": extra})
    data = {"content": content, "msg_id": int(_opaque(content, host.now_ms())[:15], 16)}
    return json_response({"status_code": 0, "data": data, "extra": extra})


# ---------------------------------------------------------------------------------------------
# Push socket handshake (SPEC.md §2.5, §9)
# ---------------------------------------------------------------------------------------------


def refused(message: str, status: int = 200) -> Response:
    """A refused handshake: ``status`` (not 101) with the reason in ``Handshake-Msg`` (SPEC.md §9)."""
    return Response(
        status,
        (("handshake-msg", message), ("content-type", "text/plain; charset=utf-8")),
        message.encode(),
    )


def _push(host: Host, request: HttpRequest, match: re.Match[str]) -> Response | Upgrade:
    if not request.is_websocket_upgrade:
        return refused("websocket upgrade expected", 400)
    token = request.param("wrss") or request.param("imprp")
    from_token = host.directory.lookup_token(token, host.now(), host.options.ws_token_ttl) if token else None
    if host.options.require_ws_token and from_token is None:
        return refused("invalid or expired signature")
    state = host.directory.by_id(from_token[0] if from_token else request.param("room_id"))
    if state is None or state.status is RoomStatus.NOT_FOUND:
        return refused("room not found")
    if state.status is RoomStatus.OFFLINE:
        return refused("room is not live")
    refusal = host.directory.take_refusal(state.room.room_id)
    if refusal is not None:
        return refused(refusal.message, refusal.status)
    position = from_token[1] if from_token is not None else state.position
    compress = host.options.compress
    if compress is None:
        compress = request.param("compress") == "gzip"
    offered = [p.strip() for p in request.header("sec-websocket-protocol").split(",") if p.strip()]
    options = f"ping-interval={host.options.heartbeat_interval:g}"
    subprotocol = offered[0] if offered else None
    headers = (("handshake-options", options),)
    return Upgrade(state, request.param("cursor"), position, compress, subprotocol, headers)


# ---------------------------------------------------------------------------------------------
# Sign server (SPEC.md §2.6, §2.7)
# ---------------------------------------------------------------------------------------------

_SIGN_STRIP = ("X-Bogus", "X-Gnarly", "msToken")


def _signed(url: str, user_agent: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _SIGN_STRIP]
    digest = _opaque(url, user_agent)
    tokens = {
        "msToken": f"mock{digest[:40]}",
        "X-Bogus": f"DFSzsw{digest[40:54]}",
        "X-Gnarly": f"M{digest[54:]}",
    }
    signed = urlunsplit(parts._replace(query=urlencode([*query, *tokens.items()])))
    return signed, tokens


def _sign_url(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """Sign a URL: [TL]/[C2] ``POST …/sign_url`` (JSON) or the old ``GET /webcast/sign_url?url=`` (§2.7)."""
    if request.method == "GET":
        url = request.param("url")
        # The UA the signature is made for, which the client then sends to TikTok: a browser's,
        # not the sign client's own.
        user_agent = fixtures_user_agent()
        if not url:
            return json_response({"code": 400, "message": "Missing url"}, 400)
        signed, tokens = _signed(url, user_agent)
        return json_response({"signedUrl": signed, "User-Agent": user_agent, "msToken": tokens["msToken"]})
    body = request.json_body()
    given_url = body.get("url")
    if not isinstance(given_url, str) or not given_url:
        return json_response({"code": 400, "message": "Missing url"}, 400)
    given_ua = body.get("userAgent")
    user_agent = given_ua if isinstance(given_ua, str) and given_ua else fixtures_user_agent()
    signed, tokens = _signed(given_url, user_agent)
    browser_name, _, browser_version = user_agent.partition("/")
    response = {
        "signedUrl": signed,
        "userAgent": user_agent,
        "browserName": browser_name,
        "browserVersion": browser_version,
        "tokens": tokens,
        "requestHeaders": {"User-Agent": user_agent},
        "cookies": [],
    }
    return json_response({"code": 200, "message": "ok", "response": response})


def fixtures_user_agent() -> str:
    """The UA the sign server hands out when the client gave none ([C2]'s default preset, §3.1)."""
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36 Edg/128.0.2739.79"
    )


def _sign_fetch(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """The first fetch by proxy: [TL] ``GET /webcast/fetch``, [C2] ``GET /webcast/rooms/{id}/connect``.

    200: the raw fetch result, with ``X-Set-TT-Cookie`` and the ids the peers read (SPEC.md §2.6).
    """
    room_id = match.groupdict().get("room_id") or request.param("room_id")
    state = host.directory.by_id(room_id)
    if state is None or state.status is RoomStatus.NOT_FOUND:
        return json_response({"code": 404, "message": f"Room {room_id or '(none)'} was not found"}, 404)
    digest = _opaque(state.room.room_id, host.now_ms(), request.connection_id)
    # [C2] keeps the first pair only, [TL] all of them (SPEC.md §2.6, §11): ttwid goes first.
    cookie = f"ttwid=1%7Cmock{digest[:32]}%7C{host.now_ms() // 1000}; tt_csrf_token=mock{digest[32:48]}"
    headers = (
        ("x-set-tt-cookie", cookie),
        ("x-request-id", f"mock-{digest[48:60]}"),
        ("x-agent-id", "mock-agent"),
        ("x-log-code", "0"),
        ("x-room-id", str(state.room.room_id)),
    )
    return _fetch(host, state, request.param("cursor"), headers)


def _anchor_room_id(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """[C2]'s last resort: ``GET /webcast/anchors/{unique_id}/room_id`` (SPEC.md §2.2)."""
    state = host.directory.by_name(match.group("user"))
    if state is None or state.status is RoomStatus.NOT_FOUND:
        body: dict[str, object] = {"code": 404, "message": "user not found", "ok": False, "is_live": False}
        return json_response({**body, "routes_attempted": ["mock"], "room_id": None, "source": "mock"}, 404)
    return json_response(
        {
            "code": 200, "message": "ok", "ok": True, "routes_attempted": ["mock"],
            "is_live": state.status is not RoomStatus.OFFLINE, "room_id": str(state.room.room_id),
            "source": "mock",
        }
    )  # fmt: skip


def _sign_chat(host: Host, request: HttpRequest, match: re.Match[str]) -> Response:
    """Chat through the sign server: [TL] ``POST /webcast/chat`` ``{content, targetRoomId}``, [C2]
    ``POST /webcast/rooms/{id}/chat`` ``{content}``; the session in ``x-cookie-header`` (SPEC.md §10)."""
    body = request.json_body()
    room_id = match.groupdict().get("room_id") or body.get("targetRoomId") or body.get("roomId")
    state = host.directory.by_id(str(room_id) if room_id is not None else None)
    if state is None and isinstance(body.get("targetUniqueId"), str):
        state = host.directory.by_name(str(body["targetUniqueId"]))
    content = body.get("content")
    session = _session_id(request, "x-cookie-header") or request.header("x-oauth-token") or None
    if session is None and isinstance(body.get("sessionId"), str):
        session = str(body["sessionId"])
    route = "sign_chat_c2" if "room_id" in match.groupdict() else "sign_chat_tl"
    text = content if isinstance(content, str) else ""
    if not _chat_accept(host, request, state, text, session, route):
        status = 401 if not _session_ok(host, session) else 400
        return json_response(
            {"code": status, "message": "Chat refused: missing session, room or content"}, status
        )
    data = {"data": {"content": text}, "extra": {"now": host.now_ms()}, "status_code": 0}
    return json_response({"code": 200, "message": "ok", "data": data})


def _not_found(request: HttpRequest) -> Response:
    return json_response(
        {"status_code": 404, "message": f"no route for {request.method} {request.path}"}, 404
    )


def _route(methods: str, pattern: str, name: str, handler: Handler, *, sign: bool = False) -> _Route:
    return _Route(frozenset(methods.split()), re.compile(pattern), name, handler, sign)


_WS_PATTERN = "|".join(re.escape(p) for p in (DEFAULT_WS_PATH, *_OTHER_WS_PATHS))

ROUTES: tuple[_Route, ...] = (
    _route("GET", r"^/@(?P<user>[^/]+)/live/?$", "live_page", _live_page),
    _route("GET", r"^/@(?P<user>[^/]+)/?$", "user_page", _user_page),
    _route("GET", r"^/api-live/user/room/?$", "api_room", _api_room),
    _route("GET", r"^/webcast/room/info/?$", "room_info", _room_info),
    _route("GET", r"^/webcast/room/check_alive/?$", "check_alive", _check_alive),
    _route("GET", r"^/webcast/gift/list/?$", "gift_list", _gift_list),
    _route("GET", r"^/webcast/im/fetch/?$", "im_fetch", _im_fetch),
    _route("GET", rf"^(?:{_WS_PATTERN})$", "push", _push),
    _route("POST", r"^/webcast/room/chat/?$", "room_chat", _room_chat),
    _route("GET POST", r"^/webcast/sign_url/?$", "sign_url", _sign_url, sign=True),
    _route("POST", r"^/tiktok/sign_url/?$", "sign_url", _sign_url, sign=True),
    _route("GET", r"^/webcast/fetch/?$", "sign_fetch", _sign_fetch, sign=True),
    _route("GET", r"^/webcast/rooms/(?P<room_id>\d+)/connect/?$", "sign_fetch", _sign_fetch, sign=True),
    _route(
        "GET", r"^/webcast/anchors/(?P<user>[^/]+)/room_id/?$", "anchor_room_id", _anchor_room_id, sign=True
    ),
    _route("POST", r"^/webcast/chat/?$", "sign_chat", _sign_chat, sign=True),
    _route("POST", r"^/webcast/rooms/(?P<room_id>\d+)/chat/?$", "sign_chat", _sign_chat, sign=True),
)


def find_route(method: str, path: str) -> tuple[_Route | None, re.Match[str] | None]:
    """The route for a request, or ``(None, None)``; a path known under another method gives 405."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and method in route.methods:
            return route, match
    return None, None


def is_sign_server_path(path: str) -> bool:
    """Whether a path belongs to the sign server (for the shape of error bodies)."""
    return any(route.sign_server and route.pattern.match(path) for route in ROUTES)


def dispatch(host: Host, request: HttpRequest) -> tuple[str, Response | Upgrade]:
    """Answer a request: ``(route name, answer)``.

    Sign-server routes check the API key first when one is configured (SPEC.md §2.6: header
    ``X-Api-Key`` or query ``apiKey``); a wrong or missing key gets 401.
    """
    route, match = find_route(request.method, request.path)
    if route is None or match is None:
        return "not_found", _not_found(request)
    key = host.options.api_key
    if route.sign_server and key is not None:
        given = request.header("x-api-key") or request.param("apiKey")
        if given != key:
            return route.name, json_response({"code": 401, "message": "Invalid or missing API key"}, 401)
    return route.name, route.handler(host, request, match)
