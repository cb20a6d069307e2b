"""The Euler Stream sign server of the current peers (SPEC.md §2.2, §2.6, §10): :class:`EulerSigner`.

It signs any URL (``POST /webcast/sign_url``), performs the first im/fetch by proxy and returns its
protobuf body with the cookies the WebSocket upgrade needs (:class:`ProxiedFetch`), looks up room ids
as [C2]'s last resort (:class:`EulerRoomIdRoute`) and sends chat. The API key travels only in
``X-Api-Key`` and a session only in the JSON body or ``x-cookie-header``, never in a URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode

from webcast_proto._checks import CONTROL_CHARS
from webcast_proto._errors import APIError, HTTPError, SignerError, UnexpectedResponse
from webcast_proto._http_common import (
    Request,
    as_int,
    as_str,
    check_room_id,
    check_size,
    cookie_header,
    error_detail,
    json_get,
    normalize_unique_id,
    quote_text,
    who,
)
from webcast_proto._room_lookup import RoomLookup
from webcast_proto._sign_common import (
    DEFAULT_SIGN_CLIENT_USER_AGENT,
    SignedUrl,
    check_user_agent,
    load_sign_json,
    parse_cookie_pairs,
    raise_for_sign_status,
    scrub,
    signed_url_parts,
    strip_signature_params,
)
from webcast_proto._webcast_api import ChatSent, chat_sent
from webcast_proto.config import DEFAULT_ENDPOINTS, DEFAULT_LIMITS, Endpoints, Limits

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto._http_common import Response
    from webcast_proto.config import ClientParams
    from webcast_proto.events import JSONValue

__all__ = ["EulerRoomIdRoute", "EulerSigner", "ProxiedFetch"]


@dataclass(frozen=True, slots=True)
class ProxiedFetch:
    """The first fetch, performed by the sign server (SPEC.md §2.6 "First fetch by proxy").

    Attributes:
        body: the raw ``ProtoMessageFetchResult`` (not gzip'd): feed it to the connection.
        cookies: from ``X-Set-TT-Cookie``; add them to the jar (they go with the WebSocket upgrade).
        room_id: ``x-room-id`` when present ([C2]: it overrides the room id).
        request_id: ``X-Request-Id``, for support requests.
        agent_id: ``X-Agent-Id``.
        log_code: ``X-Log-Code``.
    """

    body: bytes
    cookies: tuple[tuple[str, str], ...]
    room_id: int | None = None
    request_id: str | None = None
    agent_id: str | None = None
    log_code: str | None = None

    def __repr__(self) -> str:
        names = tuple(name for name, _ in self.cookies)
        return (
            f"ProxiedFetch(body=<{len(self.body)} bytes>, cookies={names!r}, room_id={self.room_id!r}, "
            f"request_id={self.request_id!r})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EulerSigner:
    """The Euler Stream sign server of the current peers (SPEC.md §2.6, §10).

    Args:
        endpoints: ``sign_server`` is the base URL.
        api_key: sent as ``X-Api-Key`` ([TL]); a secret, never in a URL, repr or error.
        session_id: a logged-in session to sign with; a secret. Pass it only when
            :func:`may_send_session_id` allows (both peers refuse otherwise).
        tt_target_idc: the session's data centre (``useast1a``, ``eu-ttp2`` …), required with it.
        sign_client: ``client`` of ``sign_url`` ([TL] ``ttlive-other``).
        fetch_client: ``client`` of the first fetch ([TL] ``ttlive-python``).
        user_agent: the UA shown to the sign server (not the one it signs for).
        limits: body size and JSON depth limits for its answers.

    Raises:
        ValueError: a session id without ``tt_target_idc``, or a key, session id or UA with
            characters unfit for a header (the message never quotes them).
    """

    endpoints: Endpoints = DEFAULT_ENDPOINTS
    api_key: str | None = None
    session_id: str | None = None
    tt_target_idc: str | None = None
    sign_client: str = "ttlive-other"
    fetch_client: str = "ttlive-python"
    user_agent: str = DEFAULT_SIGN_CLIENT_USER_AGENT
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        check_user_agent(self.user_agent)
        if self.api_key is not None and (not self.api_key or CONTROL_CHARS.search(self.api_key)):
            raise ValueError("EulerSigner.api_key must be non-empty and free of control characters")
        if self.session_id is not None:
            if not self.tt_target_idc:
                raise ValueError("EulerSigner.session_id needs tt_target_idc (SPEC.md §2.6)")
            cookie_header({"sessionid": self.session_id, "tt-target-idc": self.tt_target_idc})

    def __repr__(self) -> str:
        key = "<redacted>" if self.api_key else None
        session = "<redacted>" if self.session_id else None
        return (
            f"EulerSigner(sign_server={self.endpoints.sign_server!r}, api_key={key!s}, "
            f"session_id={session!s}, tt_target_idc={self.tt_target_idc!r})"
        )

    @property
    def _secrets(self) -> tuple[str | None, ...]:
        return (self.api_key, self.session_id)

    def _headers(self, *pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        headers = [("User-Agent", self.user_agent), *pairs]
        if self.api_key:
            headers.append(("X-Api-Key", self.api_key))
        return tuple(headers)

    def _session_header(self) -> tuple[tuple[str, str], ...]:
        # [TL] chat: `x-cookie-header: sessionid={sid}; tt-target-idc={idc}` (SPEC.md §10).
        if self.session_id is None or self.tt_target_idc is None:
            return ()
        value = cookie_header({"sessionid": self.session_id, "tt-target-idc": self.tt_target_idc})
        return (("x-cookie-header", value),)

    def _url(self, path: str, items: Sequence[tuple[str, str]]) -> str:
        return f"{self.endpoints.sign_server}{path}?{urlencode(list(items))}"

    # -- sign any URL -------------------------------------------------------------------------

    def sign_request(self, request: Request) -> Request:
        """``POST /webcast/sign_url?client=…`` with the URL to sign as JSON ([TL], SPEC.md §2.6).

        Body: ``url`` (with old signature params stripped), ``userAgent`` (the request's UA),
        ``method``, ``type`` ``xhr``, ``payload`` (a POST body, as text), and ``sessionId`` +
        ``ttTargetIdc`` when a session is configured.

        Args:
            request: the TikTok request to sign.

        Returns:
            The sign-server request.

        Raises:
            ValueError: ``request`` has no ``User-Agent`` header.
        """
        user_agent = request.header("user-agent")
        if not user_agent:
            raise ValueError("the request to sign needs a User-Agent header (the signature depends on it)")
        payload: dict[str, str] = {
            "url": strip_signature_params(request.url),
            "userAgent": user_agent,
            "method": request.method,
            "type": "xhr",
        }
        if request.body:
            payload["payload"] = request.body.decode("utf-8", errors="replace")
        if self.session_id is not None and self.tt_target_idc is not None:
            payload.update(sessionId=self.session_id, ttTargetIdc=self.tt_target_idc)
        headers = self._headers(("Content-Type", "application/json"), ("Accept", "application/json"))
        body = json.dumps(payload, separators=(",", ":")).encode()
        return Request("POST", self._url("/webcast/sign_url", (("client", self.sign_client),)), headers, body)

    def parse_sign_response(self, response: Response) -> SignedUrl:
        """``{code, message, response: {signedUrl, userAgent, tokens, requestHeaders, cookies}}``.

        Args:
            response: the answer to :meth:`sign_request`'s request.

        Returns:
            The signature.

        Raises:
            RateLimited: HTTP 429 (``retry_after`` from the headers).
            SignatureRequired: HTTP 401/402/403 or body ``code`` 403 (API key or premium plan needed).
            SignerError: another status, an empty or malformed body, no ``signedUrl``, or no tokens
                (neither ``msToken`` in the signed URL nor a non-empty ``tokens``).
            RemoteProtocolError: body or JSON nesting past ``limits``.
        """
        what = "sign_url"
        body = load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        answer = body.get("response")
        signed_url = as_str(json_get(answer, "signedUrl"))
        parts = signed_url_parts(signed_url, what)
        tokens = json_get(answer, "tokens")
        has_ms_token = any(k == "msToken" for k, _ in parse_qsl(parts.query))
        if not has_ms_token and not (isinstance(tokens, dict) and tokens):
            raise SignerError(f"{what}: sign server answer has no tokens (no msToken)", status_code=200)
        user_agent = as_str(json_get(answer, "userAgent")) or None
        if user_agent is not None and CONTROL_CHARS.search(user_agent):
            raise SignerError(
                f"{what}: sign server returned a user agent with control characters", status_code=200
            )
        request_headers = json_get(answer, "requestHeaders")
        headers = (
            tuple((k, v) for k, v in request_headers.items() if isinstance(v, str))
            if isinstance(request_headers, dict)
            else ()
        )
        return SignedUrl(
            url=signed_url,
            user_agent=user_agent,
            headers=headers,
            cookies=_answer_cookies(json_get(answer, "cookies")),
        )

    # -- first fetch by proxy -----------------------------------------------------------------

    def build_fetch_request(
        self, *, room_id: int, user_agent: str, platform: str = "web", cursor: str = "", country: str = ""
    ) -> Request:
        """``GET /webcast/fetch``: the sign server performs the first im/fetch ([TL], SPEC.md §2.6).

        Query: ``client``, ``room_id``, ``user_agent``, ``platform``, ``client_enter=true``, and
        ``cursor``/``country`` when given. A session goes in the ``x-cookie-header`` header (which the
        SDK defines and [C2] uses), never in the query where [TL] puts it.

        Args:
            room_id: the room.
            user_agent: the UA TikTok sees; the WebSocket must later send the same.
            platform: ``web``, or ``mobile`` (needs a session).
            cursor: a cursor to resume from (``""`` at first).
            country: optional country code for the sign server's exit.

        Returns:
            The request; its answer goes to :meth:`parse_fetch_response`.

        Raises:
            ValueError: a bad room id, UA or platform, or ``mobile`` without a session.
        """
        check_user_agent(user_agent)
        if platform not in ("web", "mobile"):
            raise ValueError(f"platform must be 'web' or 'mobile', got {platform!r}")
        if platform == "mobile" and self.session_id is None:
            raise ValueError("platform 'mobile' needs a session id (SPEC.md §2.6)")
        items = [
            ("client", self.fetch_client),
            ("room_id", check_room_id(room_id)),
            ("user_agent", user_agent),
            ("platform", platform),
            ("client_enter", "true"),
        ]
        items.extend((k, v) for k, v in (("cursor", cursor), ("country", country)) if v)
        headers = self._headers(("Accept", "application/protobuf,application/json"), *self._session_header())
        return Request("GET", self._url("/webcast/fetch", items), headers)

    def parse_fetch_response(self, response: Response) -> ProxiedFetch:
        """The fetch result and cookies from the sign server's answer (SPEC.md §2.6, §9).

        Args:
            response: the answer to :meth:`build_fetch_request`'s request.

        Returns:
            The protobuf body (undecoded) and the cookies of ``X-Set-TT-Cookie``.

        Raises:
            RateLimited: HTTP 429 (``retry_after`` from the headers).
            SignatureRequired: HTTP 401/402/403, or a JSON body with ``code`` 403.
            SignerError: another status; an empty body ("detected by TikTok?"); JSON or HTML instead
                of protobuf; no cookies in ``X-Set-TT-Cookie``.
            RemoteProtocolError: body past ``limits``.
        """
        what = "sign server fetch"
        check_size(response, self.limits, what)
        raise_for_sign_status(response, what, self._secrets)
        body = response.body
        if not body:
            raise SignerError(f"{what}: empty body (is TikTok detecting the sign server?)", status_code=200)
        # `{` and `<` cannot start a proto3 fetch result (see _webcast_api._refuse_non_protobuf).
        if body[:1] == b"{":
            load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
            detail = scrub(error_detail(response), self._secrets)
            raise SignerError(f"{what}: expected protobuf, got JSON{detail}", status_code=200)
        if body[:1] == b"<":
            raise SignerError(f"{what}: expected protobuf, got an HTML page", status_code=200)
        cookies = parse_cookie_pairs(response.header("x-set-tt-cookie") or "")
        if not cookies:
            raise SignerError(
                f"{what}: sign server did not return cookies (X-Set-TT-Cookie)", status_code=200
            )
        return ProxiedFetch(
            body=body,
            cookies=cookies,
            room_id=as_int(response.header("x-room-id") or "") or None,
            request_id=response.header("x-request-id"),
            agent_id=response.header("x-agent-id"),
            log_code=response.header("x-log-code"),
        )

    # -- room id ([C2] last resort) -----------------------------------------------------------

    def build_room_id_request(self, *, unique_id: str) -> Request:
        """``GET /webcast/anchors/{unique_id}/room_id`` ([C2], SPEC.md §2.2).

        Args:
            unique_id: the username (normalised here).

        Returns:
            The request.

        Raises:
            ValueError: a bad username.
        """
        path = f"/webcast/anchors/{quote(normalize_unique_id(unique_id), safe='._-')}/room_id"
        return Request(
            "GET", f"{self.endpoints.sign_server}{path}", self._headers(("Accept", "application/json"))
        )

    def parse_room_id_response(self, response: Response, *, unique_id: str = "") -> RoomLookup:
        """``{code, message, ok, is_live, room_id, …}`` → the room id.

        Args:
            response: the answer to :meth:`build_room_id_request`'s request.
            unique_id: the username asked for.

        Returns:
            The room id and ``is_live``.

        Raises:
            SignatureRequired: HTTP or body ``code`` 401/402/403 (not permitted).
            SignerError: ``ok`` false or no ``room_id``; the other sign-server failures.
            RateLimited, RemoteProtocolError: as :meth:`parse_sign_response`.
        """
        what = "sign server room id"
        body = load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        room_id = as_int(body.get("room_id"))
        if body.get("ok") is False or not room_id:
            message = scrub(quote_text(as_str(body.get("message"))), self._secrets)
            raise SignerError(f"{what}: no room id for {who(unique_id)} ({message})", status_code=200)
        is_live = body.get("is_live")
        return RoomLookup(
            room_id=room_id,
            unique_id=unique_id,
            is_live=is_live if isinstance(is_live, bool) else None,
            source="sign_server",
        )

    # -- chat ([TL], SPEC.md §10) -------------------------------------------------------------

    def build_chat_request(self, *, room_id: int, content: str) -> Request:
        """``POST /webcast/chat`` with ``{content, targetRoomId}`` and the session header ([TL]).

        Args:
            room_id: the room.
            content: the message.

        Returns:
            The request.

        Raises:
            ValueError: no session configured, empty content, or a bad room id.
        """
        if self.session_id is None:
            raise ValueError("sending chat through the sign server needs a session id")
        if not content.strip():
            raise ValueError("chat text must not be empty")
        body = json.dumps({"content": content, "targetRoomId": check_room_id(room_id)}).encode()
        headers = self._headers(("Content-Type", "application/json"), *self._session_header())
        return Request("POST", f"{self.endpoints.sign_server}/webcast/chat", headers, body)

    def parse_chat_response(self, response: Response) -> ChatSent:
        """``{code, message, data}`` → the accepted message.

        When ``data`` is TikTok's own room/chat answer (``{data, extra: {now}, status_code}``, as [C2]
        documents), its ``status_code`` is checked as for a direct send (SPEC.md §10).

        Args:
            response: the answer to :meth:`build_chat_request`'s request.

        Returns:
            The answer's ``data``.

        Raises:
            SignatureRequired: HTTP 401/402/403 or body ``code`` 403 (premium plan needed).
            InvalidSession: TikTok's ``status_code`` 20003 inside ``data``.
            APIError: another non-zero TikTok ``status_code`` inside ``data``.
            SignerError, RateLimited, RemoteProtocolError: as :meth:`parse_sign_response`.
        """
        what = "sign server chat"
        body = load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        data = body.get("data")
        if isinstance(data, dict) and "status_code" in data:
            error: HTTPError
            try:
                return chat_sent(data, what=what, status=200)
            except APIError as exc:  # TikTok's text, quoted: scrub what it might echo back
                error = APIError(scrub(exc.message, self._secrets), api_code=exc.api_code, status_code=200)
            except UnexpectedResponse as exc:  # a malformed TikTok answer is a sign-server failure
                error = SignerError(exc.message, status_code=200)
            # Raised outside the handler, so the unscrubbed original is not kept as its __context__.
            raise error
        return ChatSent(raw=data if isinstance(data, dict) else {})


def _answer_cookies(value: JSONValue) -> tuple[tuple[str, str], ...]:
    """Euler ``response.cookies``: ``{name, value}`` objects or ``"name=value"`` strings (unspecified)."""
    if not isinstance(value, list):
        return ()
    pairs: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            pairs.extend(parse_cookie_pairs(item)[:1])
        elif (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("value"), str)
        ):
            pairs.append((str(item["name"]), str(item["value"])))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class EulerRoomIdRoute:
    """The sign server's room-id route as a :class:`~webcast_proto.http.RoomIdRoute` ([C2] last resort)."""

    signer: EulerSigner
    name: str = "sign_server"

    def build_request(
        self,
        *,
        unique_id: str,
        endpoints: Endpoints,
        client_params: ClientParams,
        cookies: Mapping[str, str] | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """See :meth:`EulerSigner.build_room_id_request` (TikTok endpoints and cookies are unused)."""
        return self.signer.build_room_id_request(unique_id=unique_id)

    def parse_response(
        self, response: Response, *, unique_id: str, limits: Limits = DEFAULT_LIMITS
    ) -> RoomLookup:
        """See :meth:`EulerSigner.parse_room_id_response` (the signer's own limits apply)."""
        return self.signer.parse_room_id_response(response, unique_id=unique_id)
