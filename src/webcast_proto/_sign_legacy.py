"""The old sign server of [S]/[V1] (SPEC.md §2.7): :class:`LegacySigner`.

``GET {host}webcast/sign_url?url=…`` answers ``{signedUrl, User-Agent, msToken}``; the ``msToken``
becomes a cookie of the signed request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode

from webcast_proto._checks import CONTROL_CHARS, check_base_url, merge_headers
from webcast_proto._errors import SignerError
from webcast_proto._http_common import Request, as_str
from webcast_proto._sign_common import (
    DEFAULT_SIGN_CLIENT_USER_AGENT,
    SignedUrl,
    check_user_agent,
    load_sign_json,
    signed_url_parts,
    strip_signature_params,
)
from webcast_proto.config import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from webcast_proto._http_common import Response

__all__ = ["DEFAULT_LEGACY_SIGN_SERVER_URL", "LegacySigner"]


# [V1]'s host of the old sign server (SPEC.md §2.7).
DEFAULT_LEGACY_SIGN_SERVER_URL: Final = "https://tiktok.eulerstream.com/"


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
        object.__setattr__(self, "base_url", check_base_url("LegacySigner", "base_url", self.base_url) + "/")
        check_user_agent(self.user_agent)

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
        return Request("GET", url, merge_headers((("User-Agent", self.user_agent),), self.headers))

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
        body = load_sign_json(response, limits=self.limits, what=what, secrets=())
        signed_url = as_str(body.get("signedUrl"))
        signed_url_parts(signed_url, what)
        user_agent = as_str(body.get("User-Agent")) or None
        if user_agent is not None and CONTROL_CHARS.search(user_agent):
            raise SignerError(
                f"{what}: sign server returned a user agent with control characters", status_code=200
            )
        ms_token = as_str(body.get("msToken"))
        return SignedUrl(
            url=signed_url, user_agent=user_agent, cookies=(("msToken", ms_token),) if ms_token else ()
        )
