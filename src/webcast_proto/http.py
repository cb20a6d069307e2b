"""Request builders and response parsers for TikTok's HTTP API (SPEC.md §2, §3, §10). All pure.

The core never performs a request: it describes one as a :class:`Request` and the transport sends it
(after the configured signer, if any, has signed it). Responses come back as status, headers and body
to the parsers here, which turn TikTok's failure modes into typed errors.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Request"]

# Header names whose values are secrets: never shown in a repr, a log line or an error.
_SECRET_HEADERS = frozenset({"cookie", "x-api-key", "x-cookie-header", "x-jwt-key", "x-oauth-token"})


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request for the transport to perform.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        url: the absolute URL, query included.
        headers: name/value pairs in order (names as sent).
        body: the request body (``b""`` for none).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def __repr__(self) -> str:
        shown = tuple((k, "<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in self.headers)
        return (
            f"Request(method={self.method!r}, url={self.url!r}, headers={shown!r}, "
            f"body=<{len(self.body)} bytes>)"
        )
