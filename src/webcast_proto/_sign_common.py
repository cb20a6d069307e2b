"""The :class:`Signer` protocol and what every signer shares (SPEC.md §2.6, §2.7, §9).

:class:`SignedUrl` is a sign server's answer and :func:`apply_signature` merges it into the request
that was signed, refusing a URL for another scheme, host or path. The sign servers' status rules
(:func:`raise_for_sign_status`) and JSON envelope (:func:`load_sign_json`) are checked here for both
signers, with secrets scrubbed from any server text quoted in an error (:func:`scrub`).
:class:`NoSigner` signs nothing. The signers themselves live in ``_sign_euler`` and ``_sign_legacy``;
users import everything from :mod:`webcast_proto.signing`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from webcast_proto._checks import CONTROL_CHARS, merge_headers
from webcast_proto._errors import LocalProtocolError, RateLimited, SignatureRequired, SignerError
from webcast_proto._http_common import (
    as_int,
    as_str,
    check_size,
    cookie_header,
    error_detail,
    parse_json,
    parse_retry_after,
    quote_text,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from webcast_proto._http_common import Request, Response
    from webcast_proto.config import Limits
    from webcast_proto.events import JSONValue

__all__ = [
    "DEFAULT_SIGN_CLIENT_USER_AGENT",
    "SIGNATURE_PARAMS",
    "NoSigner",
    "SignedUrl",
    "Signer",
    "apply_signature",
    "check_user_agent",
    "load_sign_json",
    "may_send_session_id",
    "parse_cookie_pairs",
    "raise_for_sign_status",
    "scrub",
    "signed_url_parts",
    "strip_signature_params",
]


# The UA we show the sign server (peers: [TL] `TikTokLive.py/7.0.1`, [C2] `tiktok-live-connector/…`).
DEFAULT_SIGN_CLIENT_USER_AGENT: Final = "webcast/0.1"
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


def signed_url_parts(url: str, what: str) -> SplitResult:
    """The parts of a sign server's ``signedUrl``, which must be an absolute http(s) URL.

    Args:
        url: the URL the sign server returned (peer data).
        what: the route, for the message.

    Returns:
        ``urlsplit(url)``.

    Raises:
        SignerError: the URL does not parse (``urlsplit`` refuses e.g. ``https://[host``) or is not
            http(s).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https"):
        raise SignerError(f"{what}: sign server answer has no usable signedUrl", status_code=200)
    return parts


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
        headers = merge_headers(request.headers, tuple(overrides))
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


def scrub(text: str, secrets: Sequence[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``<redacted>``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def raise_for_sign_status(response: Response, what: str, secrets: Sequence[str | None]) -> None:
    """The sign server's status rules (SPEC.md §2.6, §9)."""
    code = response.status_code
    if code == 200:
        return
    detail = scrub(error_detail(response), secrets)
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


def load_sign_json(
    response: Response, *, limits: Limits, what: str, secrets: Sequence[str | None]
) -> dict[str, JSONValue]:
    """The JSON object of a sign server's answer, after its status and ``code`` rules (§2.6, §9)."""
    check_size(response, limits, what)
    raise_for_sign_status(response, what, secrets)
    if not response.body.strip():
        raise SignerError(f"{what}: sign server sent an empty body", status_code=200)
    try:
        text = response.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SignerError(f"{what}: sign server answer is not UTF-8", status_code=200) from None
    value = parse_json(text, limits=limits, what=what, error=SignerError, status_code=200)
    if not isinstance(value, dict):
        raise SignerError(f"{what}: sign server answer is not a JSON object", status_code=200)
    code = as_int(value.get("code"))
    if code == 403:  # [TL]: body code 403 is the premium refusal even under HTTP 200
        raise SignatureRequired(
            f"{what}: sign server refused (code 403): needs a premium plan", status_code=200
        )
    if code not in (None, 0, 200):
        message = scrub(quote_text(as_str(value.get("message"))), secrets)
        raise SignerError(f"{what}: sign server error {code} ({message})", status_code=200)
    return value


def check_user_agent(user_agent: str) -> None:
    """``ValueError`` unless ``user_agent`` is non-empty and free of control characters."""
    if not user_agent or CONTROL_CHARS.search(user_agent):
        raise ValueError("a user agent must be non-empty and free of control characters")


# --------------------------------------------------------------------------------------------
# The signer that signs nothing
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
