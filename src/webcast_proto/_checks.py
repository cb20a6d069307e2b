"""Input checks shared by the config objects, the request builders and the signers.

Values that end up in a request line or a header (URLs, header names and values, user agents) must
not smuggle a control character in: that is header injection. These checks raise ``ValueError``
naming the owner and field, and never quote a value that may be a secret.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["CONTROL_CHARS", "check_base_url", "check_url", "merge_headers"]

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_HTTP_SCHEMES = frozenset({"http", "https"})


def check_url(owner: str, name: str, value: object, schemes: frozenset[str]) -> str:
    """Validate an absolute URL with one of ``schemes`` and no credentials or fragment; return it."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{owner}.{name} must be a non-empty str, got {type(value).__name__}")
    if CONTROL_CHARS.search(value) or " " in value:
        raise ValueError(f"{owner}.{name} must not contain spaces or control characters")
    parts = urlsplit(value)
    # Credentials in a URL end up in logs and reprs; the sign-server key goes in a header instead.
    # Checked first so the message below, which shows the URL, never shows a password.
    if "@" in parts.netloc:
        raise ValueError(f"{owner}.{name} must not carry credentials (user:password@host)")
    if parts.scheme not in schemes or not parts.hostname:
        wanted = " or ".join(f"{s}://" for s in sorted(schemes))
        raise ValueError(f"{owner}.{name} must be an absolute {wanted} URL, got {value!r}")
    if parts.fragment:
        raise ValueError(f"{owner}.{name} must not have a fragment, got {value!r}")
    return value


def check_base_url(owner: str, name: str, value: object) -> str:
    """Validate an http(s) base URL (no query) and return it without a trailing slash."""
    url = check_url(owner, name, value, _HTTP_SCHEMES)
    if urlsplit(url).query:
        raise ValueError(f"{owner}.{name} must not have a query, got {url!r}")
    return url.rstrip("/")


def merge_headers(
    base: tuple[tuple[str, str], ...], overrides: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """``base`` with every header named in ``overrides`` (case-insensitively) replaced by it.

    Args:
        base: the default headers, in order.
        overrides: headers to add; one whose name is already in ``base`` replaces it.

    Returns:
        ``base`` minus the overridden names, then ``overrides`` in their order.

    Raises:
        ValueError: if a header name or value contains a control character (header injection).
    """
    for name, value in overrides:
        if not name or CONTROL_CHARS.search(name) or CONTROL_CHARS.search(value) or ":" in name:
            raise ValueError(f"invalid header {name!r}: empty name, ':' or a control character")
    replaced = {name.lower() for name, _ in overrides}
    return tuple((n, v) for n, v in base if n.lower() not in replaced) + tuple(overrides)
