"""The ``webcast`` host's API (SPEC.md §2.3, §2.4, §10): room info, live check, gifts, im/fetch, chat.

Builders put the client params in the query and the cookie jar in a header; the JSON parsers read
TikTok's ``{data, extra, status_code}`` envelope, a non-zero ``status_code`` becoming
:class:`~webcast_proto.APIError` (20003 on chat: :class:`~webcast_proto.InvalidSession`). im/fetch
answers protobuf, of which only the envelope is checked here (decoding is the codec's job). The
sign server's chat route relays TikTok's room/chat answer, so :func:`chat_sent` serves
:mod:`webcast_proto.signing` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from webcast_proto._errors import (
    AgeRestricted,
    APIError,
    CaptchaRequired,
    InvalidSession,
    UnexpectedHTML,
    UnexpectedResponse,
    UserOffline,
)
from webcast_proto._http_common import (
    BAD_COOKIE_VALUE,
    Request,
    Response,
    RoomStatus,
    as_int,
    as_str,
    build_url,
    check_room_id,
    check_size,
    content_type_of,
    error_detail,
    http_headers,
    json_get,
    load_json_object,
    parse_retry_after,
    quote_text,
    raise_for_status,
)
from webcast_proto.config import DEFAULT_LIMITS
from webcast_proto.events import GiftInfo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.config import ClientParams, Endpoints, Limits
    from webcast_proto.events import JSONValue

__all__ = [
    "ChatSent",
    "RoomInfo",
    "RoomOwner",
    "build_check_alive_request",
    "build_fetch_request",
    "build_gift_list_request",
    "build_room_info_request",
    "build_send_chat_request",
    "chat_sent",
    "parse_check_alive_response",
    "parse_fetch_response",
    "parse_gift_list_response",
    "parse_room_info_response",
    "parse_send_chat_response",
]


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


def _room_status(value: int) -> int:
    try:
        return RoomStatus(value)
    except ValueError:
        return value  # unknown values are kept (SPEC.md §11: other values may exist)


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
# The {data, extra, status_code} envelope
# --------------------------------------------------------------------------------------------


def _first_url(image: JSONValue) -> str | None:
    """``url_list[0]`` of a TikTok image object."""
    urls = json_get(image, "url_list")
    if isinstance(urls, list) and urls and isinstance(urls[0], str):
        return urls[0]
    return None


def _raise_for_webcast_code(body: dict[str, JSONValue], *, what: str, status: int) -> None:
    """:class:`APIError` for a non-zero ``status_code`` of a ``{data, extra, status_code}`` answer (§2.3)."""
    code = as_int(body.get("status_code", 0))
    if code:
        data = body.get("data")
        message = as_str(json_get(data, "message")) or as_str(json_get(data, "prompts"))
        raise APIError(f"{what}: API error {code} ({quote_text(message)})", api_code=code, status_code=status)


def _webcast_data(body: dict[str, JSONValue], *, what: str, status: int) -> dict[str, JSONValue]:
    """``data`` of a ``{data, extra, status_code}`` answer (SPEC.md §2.3), or :class:`APIError`."""
    _raise_for_webcast_code(body, what=what, status=status)
    data = body.get("data")
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"{what}: no 'data' object in the answer", status_code=status)
    return data


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
        "GET", build_url(endpoints.webcast, path, items), http_headers(client_params, cookies, extra_headers)
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
    items = (("room_id", check_room_id(room_id)),)
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
    body = load_json_object(response, limits=limits, what=what)
    status = response.status_code
    data = body.get("data")
    if isinstance(data, dict) and ("prompts" in data or len(data) <= 1):
        raise AgeRestricted(
            f"{what}: the room is age-restricted; a logged-in session is needed", status_code=status
        )
    data = _webcast_data(body, what=what, status=status)
    room_status = as_int(data.get("status"))
    if room_status is None:
        raise UnexpectedResponse(f"{what}: no integer data.status in the answer", status_code=status)
    room_id = as_int(data.get("id_str")) or as_int(data.get("id")) or 0
    if require_live and room_status == RoomStatus.ENDED:
        raise UserOffline(f"{what}: room {room_id} is not live (status 4)", status_code=status)
    owner = data.get("owner")
    return RoomInfo(
        room_id=room_id,
        status=_room_status(room_status),
        title=as_str(data.get("title")),
        owner=None
        if not isinstance(owner, dict)
        else RoomOwner(
            user_id=as_int(owner.get("id_str")) or as_int(owner.get("id")) or 0,
            unique_id=as_str(owner.get("display_id")),
            nickname=as_str(owner.get("nickname")),
            bio_description=as_str(owner.get("bio_description")),
            avatar_url=_first_url(owner.get("avatar_thumb")),
        ),
        create_time=as_int(data.get("create_time")) or 0,
        user_count=as_int(data.get("user_count")) or 0,
        hls_pull_url=as_str(json_get(data, "stream_url", "hls_pull_url")) or None,
        stream_data=as_str(json_get(data, "stream_url", "live_core_sdk_data", "pull_data", "stream_data"))
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
    items = (("room_ids", ",".join(check_room_id(r) for r in room_ids)),)
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
    body = load_json_object(response, limits=limits, what=what)
    _raise_for_webcast_code(body, what=what, status=response.status_code)
    data = body.get("data")
    alive = [json_get(entry, "alive") for entry in data] if isinstance(data, list) else None
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
    items = (("room_id", check_room_id(room_id)),)
    return _webcast_get("/gift/list/", items, endpoints, client_params, cookies, extra_headers)


def _gift(entry: JSONValue, index: int, status: int) -> GiftInfo:
    gift_id = as_int(json_get(entry, "id"))
    if not isinstance(entry, dict) or gift_id is None:
        raise UnexpectedResponse(f"gift list: data.gifts[{index}] has no integer id", status_code=status)
    return GiftInfo(
        id=gift_id,
        name=as_str(entry.get("name")),
        diamond_count=as_int(entry.get("diamond_count")) or 0,
        image_url=_first_url(entry.get("image")),
        type=as_int(entry.get("type")) or 0,
        describe=as_str(entry.get("describe")),
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
    body = load_json_object(response, limits=limits, what=what)
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
        ("room_id", check_room_id(room_id)),
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
    content_type = content_type_of(response)
    first = response.body[:1]
    if "html" in content_type or first == b"<":
        raise UnexpectedHTML(
            f"{what}: expected protobuf, got an HTML page (blocked?)", status_code=error_status
        )
    if "json" in content_type or first == b"{":
        # [V1]: an error as `{error}` with `Retry-After` (SPEC.md §9, InitialFetchError).
        raise UnexpectedResponse(
            f"{what}: expected protobuf, got JSON{error_detail(response)}",
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
    check_size(response, limits, what)
    raise_for_status(response, what)
    if not response.body:
        raise CaptchaRequired(f"{what}: empty body (detected by TikTok?)", status_code=response.status_code)
    _refuse_non_protobuf(response, what=what, error_status=response.status_code)
    return response.body


# --------------------------------------------------------------------------------------------
# Send chat (SPEC.md §10, [S]/[V1] direct)
# --------------------------------------------------------------------------------------------

_INVALID_SESSION = 20003  # SPEC.md §10: "Your SessionId has expired"


def _check_session_id(session_id: object) -> None:
    if not isinstance(session_id, str) or not session_id:
        raise ValueError("sending chat needs a session id (the sessionid cookie of a logged-in account)")
    if BAD_COOKIE_VALUE.search(session_id):
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
    items = (*params.http_query_items(), ("room_id", check_room_id(room_id)), ("content", text))
    url = build_url(endpoints.webcast, "/room/chat/", items)
    if session_id in url or quote(session_id) in url:
        # Only reachable if the caller put the session id in a param or the text: refuse to leak it.
        raise ValueError("the session id must not appear in the URL (found in a param or the text)")
    return Request("POST", url, http_headers(params, cookies, extra_headers, session_id=session_id))


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
    body = load_json_object(response, limits=limits, what=what)
    return chat_sent(body, what=what, status=response.status_code)


def chat_sent(body: dict[str, JSONValue], *, what: str, status: int) -> ChatSent:
    """TikTok's room/chat answer ``{status_code, data, extra: {now}}`` → ChatSent or its error (§10)."""
    code = as_int(body.get("status_code"))
    if code is None:
        raise UnexpectedResponse(f"{what}: no integer status_code in the answer", status_code=status)
    if code == _INVALID_SESSION:
        raise InvalidSession(f"{what}: the session id has expired or is invalid (20003)", status_code=status)
    data = body.get("data")
    if code:
        message = quote_text(as_str(json_get(data, "message")))
        raise APIError(f"{what}: API error {code} ({message})", api_code=code, status_code=status)
    return ChatSent(
        server_time=as_int(json_get(body, "extra", "now")),
        raw=data if isinstance(data, dict) else {},
    )
