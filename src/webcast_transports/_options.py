"""Values the client is configured with and reports, shared by both flavours: the reconnect policy,
the client's state, the proxy setting and the cookie jar.

Checked on construction, frozen where they are values (STYLE.md §7). Randomness is an input: the
policy draws its jitter from the random source the client owns (:class:`Draws`, seedable), never a
global one.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias
from urllib.parse import unquote, urlsplit

from webcast_proto import http
from webcast_proto.signing import parse_cookie_pairs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from webcast_proto import GiftInfo, WebcastError
    from webcast_proto.http import RoomInfo
    from webcast_proto.recording import WireRecord

__all__ = [
    "DEFAULT_MAX_COOKIES",
    "DEFAULT_MAX_QUEUED_EVENTS",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WEBSOCKET_TIMEOUT",
    "ClientState",
    "CookieJar",
    "Draws",
    "ProxyConfig",
    "RandomSource",
    "ReconnectPolicy",
    "WireTap",
    "parse_proxy",
]

# SPEC.md §3.4: [V1]/[C2] give HTTP requests 10000 ms.
DEFAULT_TIMEOUT: Final = 10.0
# SPEC.md §2.5: [C2] WS_CONNECT_TIMEOUT_MS, 20000.
DEFAULT_WEBSOCKET_TIMEOUT: Final = 20.0
# Events waiting for one slow events() reader before the driver waits for it: ~1 min of a busy room.
DEFAULT_MAX_QUEUED_EVENTS: Final = 10_000
# Cookies kept from TikTok's answers: a browser session holds a dozen; more is a misbehaving server.
DEFAULT_MAX_COOKIES: Final = 64

WireTap: TypeAlias = "Callable[[WireRecord], object]"
"""The client's ``wire_tap`` option: called, in the connection's task or thread, with a
:class:`~webcast_proto.recording.WireRecord` for everything that crosses the wire. It should return
quickly (the connection waits for it); what it raises is reported to ``error`` handlers."""


class RandomSource(Protocol):
    """Where the client's random numbers come from: :class:`Draws`, or any ``random.Random``."""

    def random(self) -> float:
        """A float in [0, 1)."""
        ...

    def getrandbits(self, k: int, /) -> int:
        """An int of ``k`` random bits."""
        ...

    def randbytes(self, n: int, /) -> bytes:
        """``n`` random bytes."""
        ...


class Draws:
    """A client's random numbers (backoff jitter, device and enter ids), in a few bytes of state.

    A ``random.Random`` is ~2.8 KiB (the Mersenne Twister's state), a lot for a process holding
    thousands of clients that each draw a handful of numbers. Each draw here comes from a
    ``random.Random`` made for it alone, seeded from the seed and the draw's number (a string seed,
    hashed with SHA-512): the same seed gives the same numbers, run after run.

    Args:
        seed: any int; ``None`` takes 128 bits from ``os.urandom``.
    """

    __slots__ = ("_count", "_seed")

    def __init__(self, seed: int | None = None) -> None:
        self._seed = int.from_bytes(os.urandom(16), "big") if seed is None else seed
        self._count = itertools.count(1)  # next() is one step, so threads never share a number

    def _next(self) -> random.Random:
        return random.Random(f"{self._seed}:{next(self._count)}")

    def random(self) -> float:
        """A float in [0, 1)."""
        return self._next().random()

    def getrandbits(self, k: int, /) -> int:
        """An int of ``k`` random bits."""
        return self._next().getrandbits(k)

    def randbytes(self, n: int, /) -> bytes:
        """``n`` random bytes."""
        return self._next().randbytes(n)


def _check_delay(owner: str, name: str, value: object, *, allow_zero: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{owner}.{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{owner}.{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    """When and how often a lost connection is resumed: exponential backoff with jitter.

    The n-th consecutive attempt waits ``initial_delay × multiplier**(n-1)``, at most ``max_delay``,
    minus a random part of up to ``jitter`` of it (so clients that lost the same server do not come
    back in step), and never less than the server's ``retry_after`` (a 429's ``Retry-After``). The
    count starts again once a connection works.

    Args:
        initial_delay: seconds before the first attempt.
        max_delay: the longest wait between attempts.
        multiplier: growth per failed attempt (>= 1).
        jitter: the fraction of each delay that is random, 0 to 1.
        max_attempts: consecutive failed attempts before the client gives up (``disconnected``);
            ``None`` retries forever.

    Raises:
        ValueError: a value out of range.
    """

    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.25
    max_attempts: int | None = 10

    def __post_init__(self) -> None:
        owner = "ReconnectPolicy"
        _check_delay(owner, "initial_delay", self.initial_delay, allow_zero=True)
        _check_delay(owner, "max_delay", self.max_delay, allow_zero=True)
        if self.max_delay < self.initial_delay:
            raise ValueError("ReconnectPolicy.max_delay must be >= initial_delay")
        if _check_delay(owner, "multiplier", self.multiplier) < 1:
            raise ValueError(f"ReconnectPolicy.multiplier must be >= 1, got {self.multiplier!r}")
        if not 0 <= _check_delay(owner, "jitter", self.jitter, allow_zero=True) <= 1:
            raise ValueError(f"ReconnectPolicy.jitter must be between 0 and 1, got {self.jitter!r}")
        attempts: object = self.max_attempts  # checked as the caller may pass anything
        if attempts is not None and (
            not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1
        ):
            raise ValueError(f"ReconnectPolicy.max_attempts must be a positive int or None, got {attempts!r}")

    def delay(self, attempt: int, rng: RandomSource, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number ``attempt`` (1, 2, 3 …).

        Args:
            attempt: the attempt about to be made.
            rng: where the jitter comes from (the client's :class:`Draws`, or a ``random.Random``).
            retry_after: the server's requested wait, if it named one.

        Returns:
            The delay.
        """
        exponent = min(attempt - 1, 64)  # past this the cap applies anyway; avoids float overflow
        base = min(self.max_delay, self.initial_delay * self.multiplier**exponent)
        delay = base * (1.0 - self.jitter * rng.random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def gives_up_after(self, failures: int) -> bool:
        """Whether ``failures`` consecutive failed attempts exhaust the policy."""
        return self.max_attempts is not None and failures >= self.max_attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientState:
    """What the client knows, as ``connect()`` returns it and ``client.state`` reports it (the seed's
    ``{isConnected, upgradedToWebsocket, roomId, roomInfo, availableGifts}``).

    Attributes:
        unique_id: the username, normalised (``""`` when connecting by room id only).
        room_id: the room, once known.
        room_info: the room info, when fetched (``fetch_room_info_on_connect`` or ``get_room_info()``).
        available_gifts: the gift list, when fetched (``enable_extended_gift_info`` or
            ``get_available_gifts()``).
        is_connected: between a successful ``connect()`` and the final ``disconnected``.
        upgraded_to_websocket: the push WebSocket is open (else polling, or not connected).
        last_error: the last failure reported to ``error`` handlers (or raised by ``connect()``).
    """

    unique_id: str = ""
    room_id: int | None = None
    room_info: RoomInfo | None = None
    available_gifts: tuple[GiftInfo, ...] = ()
    is_connected: bool = False
    upgraded_to_websocket: bool = False
    last_error: WebcastError | None = None


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """A proxy, from a URL like ``http://user:pass@host:3128`` or ``socks5://host:1080``.

    Attributes:
        scheme: ``"http"`` (CONNECT tunnels for every request, WebSocket included) or ``"socks5"``.
        host: the proxy's host.
        port: its port.
        auth: ``(user, password)`` when the URL carries them (sent as Basic proxy auth or SOCKS5 auth).
    """

    scheme: str
    host: str
    port: int
    auth: tuple[str, str] | None = None

    def __repr__(self) -> str:
        auth = None if self.auth is None else "<redacted>"
        return f"ProxyConfig(scheme={self.scheme!r}, host={self.host!r}, port={self.port}, auth={auth})"

    @property
    def url(self) -> str:
        """``scheme://host:port``, without credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


_DEFAULT_PROXY_PORTS: Final = {"http": 8080, "socks5": 1080}


def parse_proxy(url: str) -> ProxyConfig:
    """Read a proxy URL.

    Args:
        url: ``http://[user:pass@]host[:port]`` or ``socks5://[user:pass@]host[:port]`` (``socks5h``
            is accepted as ``socks5``: the proxy resolves names either way).

    Returns:
        The proxy.

    Raises:
        ValueError: another scheme, no host, or a path or query (the message never shows a password).
    """
    if not isinstance(url, str):
        raise ValueError(f"proxy must be a URL string, got {type(url).__name__}")
    parts = urlsplit(url)
    scheme = {"socks5h": "socks5"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in _DEFAULT_PROXY_PORTS:
        raise ValueError(f"proxy URL must start with http:// or socks5://, got scheme {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("proxy URL has an invalid port") from None
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"proxy URL must be {scheme}://host[:port], with no path or query")
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return ProxyConfig(scheme, parts.hostname, port or _DEFAULT_PROXY_PORTS[scheme], auth)


_SET_COOKIE_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class CookieJar:
    """The cookies TikTok and the sign server's first fetch gave the client (SPEC.md §3.4, §2.6).

    One per client: TikTok's ``Set-Cookie`` answers and ``X-Set-TT-Cookie`` land here and go with
    later TikTok requests and the WebSocket handshake, added to the cookies a request already
    carries (the request's own win: they are what the user configured). Attributes such as domain
    and expiry are not kept: every host the jar serves is TikTok's. Bounded at ``max_cookies``,
    the oldest dropped first.

    Args:
        max_cookies: how many cookies to keep.
    """

    __slots__ = ("_cookies", "_max")

    def __init__(self, *, max_cookies: int = DEFAULT_MAX_COOKIES) -> None:
        self._cookies: dict[str, str] = {}
        self._max = max_cookies

    def __len__(self) -> int:
        return len(self._cookies)

    def __repr__(self) -> str:
        return f"<CookieJar of {len(self._cookies)} cookies: {', '.join(self._cookies)}>"

    def as_dict(self) -> dict[str, str]:
        """A copy of the cookies (values are secrets: never log them)."""
        return dict(self._cookies)

    def set(self, name: str, value: str) -> None:
        """Keep one cookie; names that are not tokens and values that could not be sent are skipped."""
        try:
            http.cookie_header({name: value})
        except ValueError:
            return
        self._cookies.pop(name, None)
        self._cookies[name] = value
        while len(self._cookies) > self._max:
            del self._cookies[next(iter(self._cookies))]

    def update(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Keep several cookies."""
        for name, value in pairs:
            self.set(name, value)

    def take_set_cookies(self, headers: Iterable[tuple[str, str]]) -> None:
        """Keep the cookies of every ``Set-Cookie`` header of an answer (``name=value``, attributes
        ignored; an empty value deletes)."""
        for key, value in headers:
            if key.lower() != "set-cookie":
                continue
            name, sep, rest = value.partition("=")
            name = name.strip()
            if not sep or not _SET_COOKIE_NAME.fullmatch(name):
                continue
            cookie = rest.split(";", 1)[0].strip().strip('"')
            if cookie:
                self.set(name, cookie)
            else:
                self._cookies.pop(name, None)

    def apply(self, request: http.Request) -> http.Request:
        """``request`` with the jar's cookies added to its ``Cookie`` header (its own kept)."""
        if not self._cookies:
            return request
        jar = dict(parse_cookie_pairs(request.header("cookie") or ""))
        missing = {k: v for k, v in self._cookies.items() if k not in jar}
        if not missing:
            return request
        jar.update(missing)
        headers = tuple((k, v) for k, v in request.headers if k.lower() != "cookie")
        return replace(request, headers=(*headers, ("Cookie", http.cookie_header(jar))))
