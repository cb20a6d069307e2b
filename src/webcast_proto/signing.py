"""Signing: how a TikTok URL gets its signature, as a sans-I/O exchange (SPEC.md §2.6, §2.7).

A :class:`Signer` never performs I/O. Asked to sign a :class:`~webcast_proto.http.Request`, it
describes the sign-server request to make (or ``None`` when there is nothing to do); the transport
performs it and hands the :class:`~webcast_proto.http.Response` back to be parsed into a
:class:`SignedUrl`, which :func:`apply_signature` merges into the original request::

    sign_request = signer.sign_request(request)
    if sign_request is not None:
        signed = signer.parse_sign_response(transport.perform(sign_request))
        request = apply_signature(request, signed)

:class:`EulerSigner` speaks the Euler Stream sign server of the current peers: ``sign_url`` (sign any
URL), the first fetch by proxy (``GET /webcast/fetch``: the server performs the first im/fetch and
returns its protobuf body and cookies), the room-id route of [C2] and chat. :class:`LegacySigner`
speaks the old ``GET webcast/sign_url`` of [S]/[V1]. :class:`NoSigner` signs nothing.

Secrets: the API key travels only in the ``X-Api-Key`` header and the session id only in the JSON
body or the ``x-cookie-header`` header, all redacted by ``Request``'s repr; never in a URL (unlike
[C2]'s ``apiKey`` and [TL]'s ``session_id`` query params). Signers' reprs hide both, and server text
quoted in errors is scrubbed of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from webcast_proto._errors import (
    APIError,
    LocalProtocolError,
    RateLimited,
    SignatureRequired,
    SignerError,
)
from webcast_proto.config import (
    _CONTROL_CHARS,
    DEFAULT_ENDPOINTS,
    DEFAULT_LIMITS,
    Endpoints,
    Limits,
    _check_base_url,
    _merge_headers,
)
from webcast_proto.http import (
    ChatSent,
    Request,
    Response,
    RoomLookup,
    _as_int,
    _as_str,
    _chat_sent,
    _check_room_id,
    _check_size,
    _error_detail,
    _get,
    _parse_json,
    _quote_text,
    _who,
    cookie_header,
    normalize_unique_id,
    parse_retry_after,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from webcast_proto.config import ClientParams
    from webcast_proto.events import JSONValue

__all__ = [
    "DEFAULT_LEGACY_SIGN_SERVER_URL",
    "DEFAULT_SIGN_CLIENT_USER_AGENT",
    "SIGNATURE_PARAMS",
    "EulerRoomIdRoute",
    "EulerSigner",
    "LegacySigner",
    "NoSigner",
    "ProxiedFetch",
    "SignedUrl",
    "Signer",
    "apply_signature",
    "may_send_session_id",
    "parse_cookie_pairs",
    "strip_signature_params",
]

# The UA we show the sign server (peers: [TL] `TikTokLive.py/7.0.1`, [C2] `tiktok-live-connector/…`).
DEFAULT_SIGN_CLIENT_USER_AGENT: Final = "webcast/0.1"
# [V1]'s host of the old sign server (SPEC.md §2.7).
DEFAULT_LEGACY_SIGN_SERVER_URL: Final = "https://tiktok.eulerstream.com/"
# Both current peers strip these before signing (SPEC.md §2.6): the sign server adds fresh ones.
SIGNATURE_PARAMS: Final = frozenset({"X-Bogus", "X-Gnarly", "msToken"})
# Headers of the sign server's `requestHeaders` we never copy onto a TikTok request: the transport
# owns framing, and the cookie jar is ours.
_UNCOPIED_HEADERS: Final = frozenset({"host", "content-length", "transfer-encoding", "connection", "cookie"})
# Set-Cookie attributes: skipped when `X-Set-TT-Cookie` turns out to be Set-Cookie syntax (SPEC.md §11).
_COOKIE_ATTRIBUTES: Final = frozenset(
    {"path", "domain", "expires", "max-age", "secure", "httponly", "samesite", "priority", "partitioned"}
)


# --------------------------------------------------------------------------------------------
# The protocol and its helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedUrl:
    """A sign server's answer: the signed URL and what the signed request must carry.

    Attributes:
        url: the signed URL (the original plus signature params).
        user_agent: the UA the signature was made for; the request must send it (SPEC.md §2.6).
        headers: further headers the request must carry (Euler ``requestHeaders``).
        cookies: cookies the request must carry (``msToken`` of [S]/[V1], Euler ``cookies``).
    """

    url: str
    user_agent: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        names = tuple(name for name, _ in self.cookies)
        return f"SignedUrl(url={self.url!r}, user_agent={self.user_agent!r}, cookies={names!r})"


class Signer(Protocol):
    """Signs TikTok requests through a sign server, without doing I/O itself."""

    def sign_request(self, request: Request) -> Request | None:
        """The sign-server request that signs ``request``, or ``None`` to send ``request`` as it is."""
        ...

    def parse_sign_response(self, response: Response) -> SignedUrl:
        """The signature from the sign server's answer to :meth:`sign_request`'s request."""
        ...


def strip_signature_params(url: str) -> str:
    """``url`` without ``X-Bogus``, ``X-Gnarly`` and ``msToken`` (SPEC.md §2.6), other params kept in order.

    Args:
        url: an absolute URL.

    Returns:
        The URL, re-encoded only if a param was removed.
    """
    parts = urlsplit(url)
    items = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in items if k not in SIGNATURE_PARAMS]
    if len(kept) == len(items):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def parse_cookie_pairs(value: str) -> tuple[tuple[str, str], ...]:
    """``name=value`` pairs of a cookie-header-like string (``X-Set-TT-Cookie``, SPEC.md §2.6, §11).

    The peers disagree on the header's format ([TL] keeps every pair, [C2] the first), so pairs that
    are Set-Cookie attributes (``Path``, ``Domain``, ``Expires`` …) or flags are skipped: both readings
    then give the same cookies.

    Args:
        value: ``"a=1; b=2"`` or ``"a=1; Path=/; Secure"``.

    Returns:
        The cookies, in order.
    """
    pairs: list[tuple[str, str]] = []
    for item in value.split(";"):
        name, sep, val = item.partition("=")
        name = name.strip()
        if sep and name and name.lower() not in _COOKIE_ATTRIBUTES:
            pairs.append((name, val.strip()))
    return tuple(pairs)


def apply_signature(request: Request, signed: SignedUrl) -> Request:
    """``request`` with the signed URL, the signature's UA, headers and cookies.

    Args:
        request: the request that was signed.
        signed: from :meth:`Signer.parse_sign_response`.

    Returns:
        The request to perform.

    Raises:
        SignerError: the signed URL points at another scheme, host or path than ``request`` (a
            sign server must not redirect our cookies elsewhere), or carries a bad header or cookie.
    """
    original, new = urlsplit(request.url), urlsplit(signed.url)
    if (original.scheme, original.netloc, original.path) != (new.scheme, new.netloc, new.path):
        raise SignerError(
            f"sign server returned a URL for {new.scheme}://{new.hostname}{new.path}, "
            f"expected {original.scheme}://{original.hostname}{original.path}"
        )
    overrides = [(k, v) for k, v in signed.headers if k.lower() not in _UNCOPIED_HEADERS]
    if signed.user_agent:
        overrides.append(("User-Agent", signed.user_agent))
    try:
        if signed.cookies:
            jar = dict(parse_cookie_pairs(request.header("cookie") or ""))
            jar.update(signed.cookies)
            overrides.append(("Cookie", cookie_header(jar)))
        headers = _merge_headers(request.headers, tuple(overrides))
    except ValueError as exc:
        raise SignerError(f"sign server answer unusable: {exc}") from None
    return replace(request, url=signed.url, headers=headers)


def may_send_session_id(sign_server: str, whitelisted: str | None) -> bool:
    """Whether a session id may go to ``sign_server`` (SPEC.md §2.6).

    Both peers refuse unless the user named the sign server's host in the environment variable
    ``WHITELIST_AUTHENTICATED_SESSION_ID_HOST``; the transport reads the variable (the core reads no
    environment) and asks here.

    Args:
        sign_server: the sign server's base URL (:attr:`Endpoints.sign_server`).
        whitelisted: the variable's value (a host like ``api.eulerstream.com``, or a URL), or ``None``.

    Returns:
        ``True`` only when ``whitelisted`` names the same host.
    """
    if not whitelisted or not whitelisted.strip():
        return False
    text = whitelisted.strip()
    host = urlsplit(text).hostname if "://" in text else text.split("/")[0].split(":")[0]
    return bool(host) and host == urlsplit(sign_server).hostname


# --------------------------------------------------------------------------------------------
# Shared answer checks
# --------------------------------------------------------------------------------------------


def _scrub(text: str, secrets: Sequence[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def _raise_for_sign_status(response: Response, what: str, secrets: Sequence[str | None]) -> None:
    """The sign server's status rules (SPEC.md §2.6, §9)."""
    code = response.status_code
    if code == 200:
        return
    detail = _scrub(_error_detail(response), secrets)
    if code == 429:
        raise RateLimited(
            f"{what}: sign server rate limit (HTTP 429){detail}",
            status_code=code,
            retry_after=parse_retry_after(response),
        )
    if code in (401, 402, 403):
        raise SignatureRequired(
            f"{what}: sign server refused (HTTP {code}): needs an API key or a premium plan{detail}",
            status_code=code,
        )
    raise SignerError(f"{what}: sign server answered HTTP {code}, expected 200{detail}", status_code=code)


def _load_sign_json(
    response: Response, *, limits: Limits, what: str, secrets: Sequence[str | None]
) -> dict[str, JSONValue]:
    _check_size(response, limits, what)
    _raise_for_sign_status(response, what, secrets)
    if not response.body.strip():
        raise SignerError(f"{what}: sign server sent an empty body", status_code=200)
    try:
        text = response.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SignerError(f"{what}: sign server answer is not UTF-8", status_code=200) from None
    value = _parse_json(text, limits=limits, what=what, error=SignerError, status_code=200)
    if not isinstance(value, dict):
        raise SignerError(f"{what}: sign server answer is not a JSON object", status_code=200)
    code = _as_int(value.get("code"))
    if code == 403:  # [TL]: body code 403 is the premium refusal even under HTTP 200
        raise SignatureRequired(
            f"{what}: sign server refused (code 403): needs a premium plan", status_code=200
        )
    if code not in (None, 0, 200):
        message = _scrub(_quote_text(_as_str(value.get("message"))), secrets)
        raise SignerError(f"{what}: sign server error {code} ({message})", status_code=200)
    return value


def _check_user_agent(user_agent: str) -> None:
    if not user_agent or _CONTROL_CHARS.search(user_agent):
        raise ValueError("a user agent must be non-empty and free of control characters")


# --------------------------------------------------------------------------------------------
# Signers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoSigner:
    """Signs nothing: every request goes out as built (loopback, or a session-only setup)."""

    def sign_request(self, request: Request) -> Request | None:
        """Nothing to sign.

        Args:
            request: ignored.

        Returns:
            ``None``: send ``request`` as it is.
        """

    def parse_sign_response(self, response: Response) -> SignedUrl:
        """Never valid: :meth:`sign_request` asks for no request.

        Raises:
            LocalProtocolError: always.
        """
        raise LocalProtocolError("NoSigner makes no sign request, so there is no answer to parse")


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
        _check_user_agent(self.user_agent)
        if self.api_key is not None and (not self.api_key or _CONTROL_CHARS.search(self.api_key)):
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
        body = _load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        answer = body.get("response")
        signed_url = _as_str(_get(answer, "signedUrl"))
        if urlsplit(signed_url).scheme not in ("http", "https"):
            raise SignerError(f"{what}: sign server answer has no usable response.signedUrl", status_code=200)
        tokens = _get(answer, "tokens")
        has_ms_token = any(k == "msToken" for k, _ in parse_qsl(urlsplit(signed_url).query))
        if not has_ms_token and not (isinstance(tokens, dict) and tokens):
            raise SignerError(f"{what}: sign server answer has no tokens (no msToken)", status_code=200)
        user_agent = _as_str(_get(answer, "userAgent")) or None
        if user_agent is not None and _CONTROL_CHARS.search(user_agent):
            raise SignerError(
                f"{what}: sign server returned a user agent with control characters", status_code=200
            )
        request_headers = _get(answer, "requestHeaders")
        headers = (
            tuple((k, v) for k, v in request_headers.items() if isinstance(v, str))
            if isinstance(request_headers, dict)
            else ()
        )
        return SignedUrl(
            url=signed_url,
            user_agent=user_agent,
            headers=headers,
            cookies=_answer_cookies(_get(answer, "cookies")),
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
        _check_user_agent(user_agent)
        if platform not in ("web", "mobile"):
            raise ValueError(f"platform must be 'web' or 'mobile', got {platform!r}")
        if platform == "mobile" and self.session_id is None:
            raise ValueError("platform 'mobile' needs a session id (SPEC.md §2.6)")
        items = [
            ("client", self.fetch_client),
            ("room_id", _check_room_id(room_id)),
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
        _check_size(response, self.limits, what)
        _raise_for_sign_status(response, what, self._secrets)
        body = response.body
        if not body:
            raise SignerError(f"{what}: empty body (is TikTok detecting the sign server?)", status_code=200)
        # `{` and `<` cannot start a proto3 fetch result (see http._refuse_non_protobuf).
        if body[:1] == b"{":
            _load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
            detail = _scrub(_error_detail(response), self._secrets)
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
            room_id=_as_int(response.header("x-room-id") or "") or None,
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
        body = _load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        room_id = _as_int(body.get("room_id"))
        if body.get("ok") is False or not room_id:
            message = _scrub(_quote_text(_as_str(body.get("message"))), self._secrets)
            raise SignerError(f"{what}: no room id for {_who(unique_id)} ({message})", status_code=200)
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
        body = json.dumps({"content": content, "targetRoomId": _check_room_id(room_id)}).encode()
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
        body = _load_sign_json(response, limits=self.limits, what=what, secrets=self._secrets)
        data = body.get("data")
        if isinstance(data, dict) and "status_code" in data:
            try:
                return _chat_sent(data, what=what, status=200)
            except APIError as exc:  # TikTok's text, quoted: scrub what it might echo back
                raise APIError(
                    _scrub(exc.message, self._secrets), api_code=exc.api_code, status_code=200
                ) from None
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


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacySigner:
    """The old sign server of [S]/[V1]: ``GET {host}webcast/sign_url?url=…`` (SPEC.md §2.7).

    Args:
        base_url: the host, e.g. ``https://tiktok.eulerstream.com/``.
        client: ``client`` param (``ttlive-node``).
        uuc: distinct usernames connected in the last 10 minutes (the caller counts).
        params: extra query params (``signProviderOptions.params``).
        headers: extra headers (``signProviderOptions.headers``).
        user_agent: the UA shown to the sign server.
        limits: body size and JSON depth limits for its answers.
    """

    base_url: str = DEFAULT_LEGACY_SIGN_SERVER_URL
    client: str = "ttlive-node"
    uuc: int = 1
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    user_agent: str = DEFAULT_SIGN_CLIENT_USER_AGENT
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        # SPEC.md §2.7 joins `{host}webcast/sign_url`: keep exactly one trailing slash.
        object.__setattr__(self, "base_url", _check_base_url("LegacySigner", "base_url", self.base_url) + "/")
        _check_user_agent(self.user_agent)

    def sign_request(self, request: Request) -> Request:
        """``GET {base}webcast/sign_url?url={url}&client=…&uuc=…`` plus the extra params.

        Args:
            request: the TikTok request to sign (its URL goes in the query; it must not hold secrets,
                which no builder of ours puts there).

        Returns:
            The sign-server request.
        """
        items = [
            ("url", strip_signature_params(request.url)),
            ("client", self.client),
            ("uuc", str(self.uuc)),
            *self.params,
        ]
        url = f"{self.base_url}webcast/sign_url?{urlencode(items)}"
        return Request("GET", url, _merge_headers((("User-Agent", self.user_agent),), self.headers))

    def parse_sign_response(self, response: Response) -> SignedUrl:
        """``{signedUrl, User-Agent, msToken}`` → the signature (``msToken`` becomes a cookie).

        Args:
            response: the answer to :meth:`sign_request`'s request.

        Returns:
            The signature.

        Raises:
            RateLimited: HTTP 429.
            SignatureRequired: HTTP 401/402/403.
            SignerError: another status, an empty or malformed body, or no ``signedUrl``.
            RemoteProtocolError: body or JSON nesting past ``limits``.
        """
        what = "sign_url (old)"
        body = _load_sign_json(response, limits=self.limits, what=what, secrets=())
        signed_url = _as_str(body.get("signedUrl"))
        if urlsplit(signed_url).scheme not in ("http", "https"):
            raise SignerError(f"{what}: sign server answer has no usable signedUrl", status_code=200)
        user_agent = _as_str(body.get("User-Agent")) or None
        if user_agent is not None and _CONTROL_CHARS.search(user_agent):
            raise SignerError(
                f"{what}: sign server returned a user agent with control characters", status_code=200
            )
        ms_token = _as_str(body.get("msToken"))
        return SignedUrl(
            url=signed_url, user_agent=user_agent, cookies=(("msToken", ms_token),) if ms_token else ()
        )
