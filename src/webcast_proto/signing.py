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

The code lives in private modules, re-exported here (depend on ``webcast_proto.signing``, not on
the split): ``_sign_common`` (the protocol, :class:`SignedUrl`, :class:`NoSigner` and the checks both
sign servers share), ``_sign_euler`` and ``_sign_legacy``.
"""

from __future__ import annotations

from webcast_proto._sign_common import (
    DEFAULT_SIGN_CLIENT_USER_AGENT,
    SIGNATURE_PARAMS,
    NoSigner,
    SignedUrl,
    Signer,
    apply_signature,
    may_send_session_id,
    parse_cookie_pairs,
    strip_signature_params,
)
from webcast_proto._sign_euler import EulerRoomIdRoute, EulerSigner, ProxiedFetch
from webcast_proto._sign_legacy import DEFAULT_LEGACY_SIGN_SERVER_URL, LegacySigner

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
