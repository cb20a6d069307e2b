"""``TikTokLiveClient``: the seed's ``WebcastPushConnection`` in Python form.

This is the async client, on anyio (asyncio and trio); the blocking one is generated from it.

::

    client = TikTokLiveClient("@user")

    @client.on("chat")
    async def on_chat(event: Chat) -> None:
        print(event.user.unique_id, event.comment)

    async with client:
        state = await client.connect()
        await client.wait_until_disconnected()

The client owns its background work (STYLE.md §15: nothing global, so any number of clients share a
process): ``async with client`` opens the scope the driver runs in, ``connect()`` starts it and
returns once the connection is established, and leaving the block stops it and waits for it, so no
task is left behind. ``run()`` does all three.

Order of events. ``connected`` (each successful first fetch, so again after a reconnect), the
initial data, ``websocketConnected``, then the room's messages. A loss that is resumed gives
``error`` (when a failure caused it) and ``reconnecting``, then ``connected`` again. At the end,
exactly once per ``connect()`` that got as far as ``connected``: ``streamEnd`` (when the host or
TikTok ended the stream) *then* ``disconnected``, and nothing after it. Handlers run one at a time in
that order, in the driver's task; one that raises is reported to ``error`` and the rest go on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from typing import TYPE_CHECKING, Final, TypeAlias, TypeVar, overload

from webcast_proto import (
    AgeRestricted,
    Connected,
    Disconnected,
    Gift,
    HTTPError,
    LocalProtocolError,
    MessageEvent,
    UserNotFound,
    WebcastError,
    WebSocketConnected,
    default_registry,
    http,
)
from webcast_proto.config import DEFAULT_LIMITS, ClientParams, Endpoints, make_device_id
from webcast_proto.connection import DEFAULT_REQUEST_POLLING_INTERVAL_MS, ClientConnection
from webcast_proto.signing import EulerRoomIdRoute, EulerSigner, NoSigner
from webcast_transports import _names
from webcast_transports._async._driver import AsyncDriver, DriverResult, DriverSettings
from webcast_transports._async._http import AsyncHTTP
from webcast_transports._backend import (
    AsyncBackend,
    AsyncChannel,
    AsyncInterrupt,
    AsyncRunner,
    AsyncSignal,
)
from webcast_transports._errors import HandlerError, scrub_secrets, secrets_scrubbed
from webcast_transports._events import Reconnecting
from webcast_transports._options import (
    DEFAULT_MAX_QUEUED_EVENTS,
    DEFAULT_TIMEOUT,
    DEFAULT_WEBSOCKET_TIMEOUT,
    ClientState,
    CookieJar,
    Draws,
    ReconnectPolicy,
    parse_proxy,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence
    from types import TracebackType

    from webcast_proto import ConverterRegistry, Event, GiftInfo, Limits
    from webcast_proto.http import ChatSent, RoomIdRoute, RoomInfo
    from webcast_proto.signing import Signer
    from webcast_transports._options import WireTap

__all__ = ["AsyncEventStream", "EventHandler", "TikTokLiveClient"]

_log = logging.getLogger("webcast.client")

EventHandler: TypeAlias = "Callable[..., object]"
"""A handler: called with the event (or, for ``error``, the exception); sync or async."""
H = TypeVar("H", bound=EventHandler)

_DEFAULT_RECONNECT: Final = ReconnectPolicy()
# Event class → its ``.on()`` name, filled on first use (names depend on the class alone).
_EVENT_NAMES: Final[dict[type[Event], str]] = {}
_UNSET: Final = object()


class AsyncEventStream:
    """``async for event in client.events()``: every event of the client, in order.

    Opened before the client is connected, its first step connects (so nothing is missed, initial
    data included); opened while connected, it starts with the next event. It ends after the final
    ``Disconnected``. A slow reader slows the client down (up to ``DEFAULT_MAX_QUEUED_EVENTS`` events
    wait for it) rather than losing events. Leave it with ``break`` or use it as a context manager.
    """

    def __init__(self, client: TikTokLiveClient, channel: AsyncChannel[Event], *, connect: bool) -> None:
        self._client = client
        self._channel = channel
        self._connect = connect

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Event:
        if self._connect:
            self._connect = False
            await self._client.connect()
        event = await self._channel.get()
        if event is None:
            self.close()
            raise StopAsyncIteration
        return event

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop receiving events (the client goes on)."""
        self._channel.close_consumer()
        self._client._unsubscribe(self._channel)

    def __del__(self) -> None:
        self.close()


class TikTokLiveClient:
    """A TikTok LIVE room's events, as the seed's ``WebcastPushConnection`` delivered them.

    Args:
        unique_id: the host's username (``"@user"``, ``"user"`` or their live URL); may be omitted
            when ``room_id`` is given.
        room_id: connect to this room directly, skipping the lookup (which fails for age-restricted
            and private rooms, SPEC.md §2.2).
        process_initial_data: deliver the recent messages the first fetch carries (seed default on).
        fetch_room_info_on_connect: fetch the room info on ``connect()`` and refuse an offline room
            with ``UserOffline`` (seed default on).
        enable_extended_gift_info: fetch the gift list on ``connect()`` and attach each gift's entry
            to gift events as ``extended_gift_info`` (seed default off).
        enable_websocket_upgrade: use the push WebSocket when offered; off, poll (seed default on).
        request_polling_interval_ms: the least time between polls (seed default 1000).
        session_id: a logged-in ``sessionid`` cookie: sent with TikTok's requests (age-restricted
            rooms, polling, chat), never logged; the push server gets it only with
            ``authenticate_websocket``.
        client_params: what the client says about itself (UA, locale, screen …); default presets
            with a random ``device_id``.
        request_headers: extra headers for every request to TikTok.
        websocket_headers: extra headers for the WebSocket handshake.
        proxy: ``http://[user:pass@]host:port`` (CONNECT tunnels, WebSocket included) or
            ``socks5://[user:pass@]host:port``.
        timeout: seconds for each phase of an HTTP request (connect, write, read).
        websocket_timeout: seconds for the WebSocket handshake.
        endpoints: where TikTok (and the sign server) are; e.g. ``Endpoints.from_base_url`` of the
            mock server.
        signer: signs the first fetch (``EulerSigner``, ``LegacySigner``); ``NoSigner`` by default.
        ssl_context: how TLS is verified (``httpcore.default_ssl_context()``, i.e. certifi, by
            default).
        reconnect: the backoff policy after a loss; ``None`` never reconnects.
        liveness_timeout: seconds of silence on the socket after which it counts as dead and is
            resumed; ``None`` disables it.
        heartbeat_interval: seconds between heartbeats, overriding the server's ``ping-interval``.
        authenticate_websocket: send the session cookies in the WebSocket handshake ([C2]
            ``authenticateWs``).
        limits: size limits for everything the server sends.
        registry: converts messages to events; a fresh default registry if omitted.
        room_id_routes: how a username becomes a room id, tried in order (the live page, then the
            API; plus the sign server's route with an ``EulerSigner``).
        seed: seeds the client's random numbers (backoff jitter, device and enter ids), for
            reproducible runs.
        wire_tap: called with a :class:`~webcast_proto.recording.WireRecord` for every fetch body
            and push frame, both ways, and the socket's opening and closing (``webcast record``
            writes them to a file, ``docs/recordings.md``); it runs in the connection's task and
            should be quick. What it raises goes to ``error`` handlers.

    Raises:
        ValueError: a bad username, proxy URL or option value; neither ``unique_id`` nor ``room_id``.
        TypeError: an option of the wrong type.
    """

    # Slots: a process may hold thousands of clients, and an instance dict of ~40 attributes is
    # ~1.5 KiB of each. ``__dict__`` (made only when used) and ``__weakref__`` keep what a plain
    # class allows: an application's own attributes on its client, weak references to it.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_authenticate_websocket",
        "_client_params",
        "_connection",
        "_cookies",
        "_done",
        "_driver_worker",
        "_driving",
        "_enable_extended_gift_info",
        "_enable_websocket_upgrade",
        "_endpoints",
        "_fetch_room_info_on_connect",
        "_gifts_by_id",
        "_handlers",
        "_heartbeat_interval",
        "_http",
        "_interrupt",
        "_limits",
        "_liveness_timeout",
        "_methods_by_name",
        "_own_registry",
        "_process_initial_data",
        "_proxy",
        "_reconnect",
        "_registry",
        "_request_polling_interval_ms",
        "_rng",
        "_room_id",
        "_room_id_routes",
        "_runner",
        "_session_id",
        "_signer",
        "_ssl_context",
        "_state",
        "_subscribers",
        "_timeout",
        "_unique_id",
        "_websocket_headers",
        "_websocket_timeout",
        "_wire_tap",
    )

    def __init__(
        self,
        unique_id: str | None = None,
        *,
        room_id: int | None = None,
        process_initial_data: bool = True,
        fetch_room_info_on_connect: bool = True,
        enable_extended_gift_info: bool = False,
        enable_websocket_upgrade: bool = True,
        request_polling_interval_ms: int = DEFAULT_REQUEST_POLLING_INTERVAL_MS,
        session_id: str | None = None,
        client_params: ClientParams | None = None,
        request_headers: Mapping[str, str] | None = None,
        websocket_headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        websocket_timeout: float = DEFAULT_WEBSOCKET_TIMEOUT,
        endpoints: Endpoints | None = None,
        signer: Signer | None = None,
        ssl_context: ssl.SSLContext | None = None,
        reconnect: ReconnectPolicy | None = _DEFAULT_RECONNECT,
        liveness_timeout: float | None = 60.0,
        heartbeat_interval: float | None = None,
        authenticate_websocket: bool = False,
        limits: Limits = DEFAULT_LIMITS,
        registry: ConverterRegistry | None = None,
        room_id_routes: Sequence[RoomIdRoute] | None = None,
        seed: int | None = None,
        wire_tap: WireTap | None = None,
    ) -> None:
        if unique_id is None and room_id is None:
            raise ValueError("TikTokLiveClient needs a unique_id (username) or a room_id")
        given: object = room_id  # checked as the caller may pass anything
        if given is not None and (not isinstance(given, int) or isinstance(given, bool) or given <= 0):
            raise ValueError(f"room_id must be a positive int, got {room_id!r}")
        seconds: tuple[tuple[str, object], ...] = (
            ("timeout", timeout),
            ("websocket_timeout", websocket_timeout),
        )
        for name, value in seconds:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if reconnect is not None and not isinstance(reconnect, ReconnectPolicy):
            raise TypeError(f"reconnect must be a ReconnectPolicy or None, got {type(reconnect).__name__}")
        if wire_tap is not None and not callable(wire_tap):
            raise TypeError(f"wire_tap must be callable, got {type(wire_tap).__name__}")
        self._wire_tap = wire_tap
        self._rng = Draws(seed)
        self._unique_id = "" if unique_id is None else http.normalize_unique_id(unique_id)
        self._room_id = room_id
        self._process_initial_data = process_initial_data
        self._fetch_room_info_on_connect = fetch_room_info_on_connect
        self._enable_extended_gift_info = enable_extended_gift_info
        self._enable_websocket_upgrade = enable_websocket_upgrade
        self._request_polling_interval_ms = request_polling_interval_ms
        self._session_id = session_id
        if session_id is not None:
            http.cookie_header({"sessionid": session_id})  # fails early on an unusable value
        params = client_params or ClientParams(device_id=make_device_id(self._rng.randbytes(8)))
        if request_headers:
            params = dataclasses.replace(params, extra_headers={**params.extra_headers, **request_headers})
        self._client_params = params
        self._websocket_headers = tuple((websocket_headers or {}).items())
        self._proxy = None if proxy is None else parse_proxy(proxy)
        self._timeout = float(timeout)
        self._websocket_timeout = float(websocket_timeout)
        self._endpoints = endpoints or Endpoints()
        self._signer: Signer = NoSigner() if signer is None else signer
        self._ssl_context = ssl_context
        self._reconnect = reconnect
        self._liveness_timeout = liveness_timeout
        self._heartbeat_interval = heartbeat_interval
        self._authenticate_websocket = authenticate_websocket
        self._limits = limits
        self._registry = default_registry() if registry is None else registry
        self._own_registry = registry is None  # then never changed: its methods' events are known
        routes = tuple(http.DEFAULT_ROOM_ID_ROUTES if room_id_routes is None else room_id_routes)
        if room_id_routes is None and isinstance(self._signer, EulerSigner):
            routes = (*routes, EulerRoomIdRoute(self._signer))  # [C2]'s last resort (SPEC.md §2.2)
        if not routes:
            raise ValueError("room_id_routes must name at least one route")
        self._room_id_routes = routes

        self._handlers: dict[str, list[Callable[..., object]]] = {}
        self._subscribers: list[AsyncChannel[Event]] = []
        self._cookies = CookieJar()
        self._gifts_by_id: dict[int, GiftInfo] = {}
        self._methods_by_name: Mapping[str, type[Event]] | None = None
        self._connection: ClientConnection | None = None  # while driving: to update wanted methods
        self._state = ClientState(unique_id=self._unique_id, room_id=room_id)
        self._runner: AsyncRunner | None = None
        self._http: AsyncHTTP | None = None
        self._interrupt: AsyncInterrupt | None = None
        self._done: AsyncSignal | None = None
        self._driver_worker: int | None = None
        self._driving = False

    def __repr__(self) -> str:
        who = f"@{self._unique_id}" if self._unique_id else f"room {self._room_id}"
        return f"<TikTokLiveClient {who} connected={self._state.is_connected}>"

    # -- the scope ---------------------------------------------------------------------------

    async def __aenter__(self) -> TikTokLiveClient:
        if self._runner is not None:
            raise LocalProtocolError("the client is already entered; enter it once")
        http_client = self._make_http()
        runner = AsyncRunner()
        try:
            await runner.__aenter__()
        except BaseException:
            await http_client.aclose()
            raise
        self._http, self._runner = http_client, runner
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        runner, http_client = self._runner, self._http
        if self._interrupt is not None:
            self._interrupt.request()
        try:
            if runner is not None:
                # The driver stops on its own (interrupted); the body's exception is not the task
                # group's business, so it propagates as it is, not wrapped in an exception group.
                await runner.__aexit__(None, None, None)
        finally:
            self._runner = self._http = None
            for channel in self._subscribers:
                channel.close_producer()
            self._subscribers.clear()
            if http_client is not None:
                with AsyncBackend.cleanup_scope(self._timeout):
                    await http_client.aclose()

    def _make_http(self) -> AsyncHTTP:
        return AsyncHTTP(
            limits=self._limits, timeout=self._timeout, ssl_context=self._ssl_context, proxy=self._proxy
        )

    @contextlib.asynccontextmanager
    async def _http_session(self) -> AsyncIterator[AsyncHTTP]:
        """The client's pool when it is entered, else one opened for this call and closed after."""
        if self._http is not None:
            yield self._http
            return
        http_client = self._make_http()
        try:
            yield http_client
        finally:
            with AsyncBackend.cleanup_scope(self._timeout):
                await http_client.aclose()

    # -- handlers ----------------------------------------------------------------------------

    @overload
    def on(self, name: str) -> Callable[[H], H]: ...

    @overload
    def on(self, name: str, handler: H) -> H: ...

    def on(self, name: str, handler: H | None = None) -> H | Callable[[H], H]:
        """Call ``handler`` with every event called ``name`` (the seed's names: ``chat``, ``gift`` …,
        ``rawData`` for every message, ``error`` for failures). Sync or async functions.

        Also a decorator: ``@client.on("chat")``.

        Args:
            name: the event name (see ``docs/transports.md`` for the table).
            handler: the function; omitted, ``on`` returns a decorator.

        Returns:
            ``handler`` (or the decorator), so it stays usable.

        Raises:
            ValueError: an unknown name.
            TypeError: ``handler`` is not callable (or, in the blocking client, is async).
        """
        _names.class_for_name(name)  # refuses unknown names

        def register(func: H) -> H:
            AsyncBackend.check_handler(func)
            self._handlers.setdefault(name, []).append(func)
            self._refresh_wanted()
            return func

        if handler is None:
            return register
        return register(handler)

    def off(self, name: str, handler: Callable[..., object] | None = None) -> None:
        """Stop calling ``handler`` for ``name`` events (every handler of ``name`` when omitted).

        Raises:
            ValueError: an unknown name.
        """
        _names.class_for_name(name)
        if handler is None:
            self._handlers.pop(name, None)
        elif handler in (handlers := self._handlers.get(name, [])):
            handlers.remove(handler)
        self._refresh_wanted()

    def events(self) -> AsyncEventStream:
        """Every event, as an async iterator (see :class:`AsyncEventStream`).

        Returns:
            The stream; if the client is not connected, its first step connects.
        """
        channel: AsyncChannel[Event] = AsyncChannel(DEFAULT_MAX_QUEUED_EVENTS)
        self._subscribers.append(channel)
        self._refresh_wanted()
        return AsyncEventStream(self, channel, connect=not self._driving)

    def _unsubscribe(self, channel: AsyncChannel[Event]) -> None:
        if channel in self._subscribers:
            self._subscribers.remove(channel)
            channel.close_producer()
            self._refresh_wanted()

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """What the client knows now (room id, room info, gifts, connection)."""
        return self._state

    @property
    def unique_id(self) -> str:
        """The username, normalised (``""`` when created with a room id only)."""
        return self._unique_id

    def _update(self, **changes: object) -> None:
        self._state = dataclasses.replace(self._state, **changes)  # type: ignore[arg-type]  # field names checked by dataclasses

    # -- HTTP calls usable without connecting --------------------------------------------------

    def _session_cookies(self) -> dict[str, str]:
        sid = self._session_id
        return {} if sid is None else dict.fromkeys(http.SESSION_COOKIE_NAMES, sid)

    async def _lookup(self, http_client: AsyncHTTP, *, refuse_offline: bool) -> int:
        """The room id: the given one, or found by the routes (SPEC.md §2.2).

        When every route fails, the failure raised is the first ``UserNotFound`` a route gave (the
        most telling: a sign server's own error about the same user says less), else the last one.
        """
        if self._room_id is not None:
            return self._room_id
        last: HTTPError | None = None
        not_found: UserNotFound | None = None
        for route in self._room_id_routes:
            request = route.build_request(
                unique_id=self._unique_id,
                endpoints=self._endpoints,
                client_params=self._client_params,
                cookies=self._session_cookies(),
            )
            tiktok = not isinstance(route, EulerRoomIdRoute)
            try:
                response = await http_client.perform(request, cookies=self._cookies if tiktok else None)
                lookup = route.parse_response(response, unique_id=self._unique_id, limits=self._limits)
            except HTTPError as exc:  # this route failed: the next may work (SPEC.md §2.2)
                _log.info("@%s: room id route %r failed: %s", self._unique_id, route.name, exc.message)
                last = exc
                if not_found is None and isinstance(exc, UserNotFound):
                    not_found = exc
                continue
            if refuse_offline:
                lookup.require_live()
            self._update(room_id=lookup.room_id)
            return lookup.room_id
        assert last is not None  # there is at least one route: checked when they are given
        raise not_found or last

    async def _fetch_room_info(self, http_client: AsyncHTTP, room_id: int, *, require_live: bool) -> RoomInfo:
        request = http.build_room_info_request(
            endpoints=self._endpoints,
            client_params=self._client_params,
            room_id=room_id,
            cookies=self._session_cookies(),
        )
        response = await http_client.perform(request, cookies=self._cookies)
        info = http.parse_room_info_response(response, limits=self._limits, require_live=require_live)
        self._update(room_info=info)
        return info

    async def _fetch_gifts(self, http_client: AsyncHTTP, room_id: int) -> tuple[GiftInfo, ...]:
        request = http.build_gift_list_request(
            endpoints=self._endpoints,
            client_params=self._client_params,
            room_id=room_id,
            cookies=self._session_cookies(),
        )
        response = await http_client.perform(request, cookies=self._cookies)
        gifts = http.parse_gift_list_response(response, limits=self._limits)
        self._update(available_gifts=gifts)
        return gifts

    async def get_room_info(self) -> RoomInfo:
        """The room's info (status, title, host, stream URLs), connected or not.

        Returns:
            The room info (also kept in ``state.room_info``).

        Raises:
            UserNotFound, AgeRestricted, RateLimited, HTTPError …: what TikTok answered.
            ConnectError, ReadTimeout, TransportError: the network failed.
        """
        with secrets_scrubbed(*self._secret_values()):
            async with self._http_session() as http_client:
                room_id = self._state.room_id or await self._lookup(http_client, refuse_offline=False)
                return await self._fetch_room_info(http_client, room_id, require_live=False)

    async def get_available_gifts(self) -> tuple[GiftInfo, ...]:
        """The room's gift list, connected or not.

        Returns:
            The gifts (also kept in ``state.available_gifts``).

        Raises:
            UserNotFound, RateLimited, HTTPError …: what TikTok answered.
            ConnectError, ReadTimeout, TransportError: the network failed.
        """
        with secrets_scrubbed(*self._secret_values()):
            async with self._http_session() as http_client:
                room_id = self._state.room_id or await self._lookup(http_client, refuse_offline=False)
                return await self._fetch_gifts(http_client, room_id)

    async def send_message(self, text: str, session_id: str | None = None) -> ChatSent:
        """Post a chat message to the room (SPEC.md §10), as the account of the session id.

        Args:
            text: the message.
            session_id: the account's ``sessionid`` cookie; the client's ``session_id`` if omitted.

        Returns:
            TikTok's acceptance.

        Raises:
            ValueError: no session id, or empty text.
            InvalidSession: the session id was refused (expired).
            APIError, HTTPError …: what TikTok answered.
            ConnectError, ReadTimeout, TransportError: the network failed.
        """
        with secrets_scrubbed(session_id, *self._secret_values()):
            sid = session_id or self._session_id
            if not sid:
                raise ValueError("send_message() needs a session id: pass session_id here or to the client")
            async with self._http_session() as http_client:
                room_id = self._state.room_id or await self._lookup(http_client, refuse_offline=False)
                request = http.build_send_chat_request(
                    endpoints=self._endpoints,
                    client_params=self._client_params,
                    room_id=room_id,
                    text=text,
                    session_id=sid,
                )
                response = await http_client.perform(request, cookies=self._cookies)
            return http.parse_send_chat_response(response, limits=self._limits)

    # -- connecting ----------------------------------------------------------------------------

    def _refresh_wanted(self) -> None:
        """Tell a running connection what is listened to now (handlers or readers changed)."""
        connection = self._connection
        if connection is not None:
            connection.set_wanted_methods(self._wanted_methods())

    def _wanted_methods(self) -> frozenset[str] | None:
        if self._subscribers:
            return None  # an events() reader wants everything
        if self._methods_by_name is None:
            self._methods_by_name = (
                _names.default_event_types_by_method()
                if self._own_registry
                else _names.event_types_by_method(self._registry)
            )
        listened = {name for name, handlers in self._handlers.items() if handlers}
        return _names.wanted_methods(listened, self._methods_by_name)

    async def connect(self) -> ClientState:
        """Find the room, fetch what the options ask for, and connect; returns once established.

        Established means the push WebSocket is open (or polling has begun, or the stream had
        already ended). Retryable failures on the way are retried per ``reconnect``.

        Returns:
            The state: room id, room info (``fetch_room_info_on_connect``), gifts
            (``enable_extended_gift_info``).

        Raises:
            LocalProtocolError: the client is not entered (``async with client``) or is connected.
            UserNotFound, UserOffline, AgeRestricted …: the room cannot be read.
            WebcastError: the connection failed and the reconnect policy gave up (the last failure).
        """
        with secrets_scrubbed(*self._secret_values()):
            runner, http_client = self._runner, self._http
            if runner is None or http_client is None:
                raise LocalProtocolError(
                    "connect() runs the connection in the client's scope: use `async with client:` "
                    "(or `await client.run()`)"
                )
            if self._driving:
                raise LocalProtocolError("the client is already connected; disconnect() first")
            self._update(last_error=None)
            room_id = await self._lookup(http_client, refuse_offline=True)
            if self._fetch_room_info_on_connect:
                try:
                    await self._fetch_room_info(http_client, room_id, require_live=True)
                except AgeRestricted:
                    if self._session_id is None:
                        raise
                    _log.info("room %d is age-restricted; connecting with the session", room_id)
            if self._enable_extended_gift_info:
                try:
                    gifts = await self._fetch_gifts(http_client, room_id)
                except WebcastError as exc:  # events still come, without the gift details
                    await self._report(exc)
                else:
                    self._gifts_by_id = {gift.id: gift for gift in gifts}
            connection = ClientConnection(
                room_id=room_id,
                endpoints=self._endpoints,
                client_params=self._client_params,
                cookies=self._session_cookies(),
                process_initial_data=self._process_initial_data,
                enable_websocket_upgrade=self._enable_websocket_upgrade,
                request_polling_interval_ms=self._request_polling_interval_ms,
                heartbeat_interval=self._heartbeat_interval,
                liveness_timeout=self._liveness_timeout,
                limits=self._limits,
                registry=self._registry,
                wanted_methods=self._wanted_methods(),
            )
            self._connection = connection
            interrupt = AsyncInterrupt()
            established = AsyncSignal()
            done = AsyncSignal()
            driver = AsyncDriver(
                connection=connection,
                http=http_client,
                settings=DriverSettings(
                    client_params=self._client_params,
                    signer=self._signer,
                    reconnect=self._reconnect,
                    limits=self._limits,
                    timeout=self._timeout,
                    websocket_timeout=self._websocket_timeout,
                    websocket_headers=self._websocket_headers,
                    cookies=tuple(self._session_cookies().items()),
                    authenticate_websocket=self._authenticate_websocket,
                    wire_tap=self._wire_tap,
                ),
                cookies=self._cookies,
                interrupt=interrupt,
                rng=self._rng,
                emit=self._emit,
                report=self._report,
                on_established=established.set,
            )
            self._interrupt, self._done, self._driving = interrupt, done, True
            outcome: list[DriverResult] = []
            runner.start(
                functools.partial(self._drive, driver, outcome, established, done), name=f"webcast {self!r}"
            )
            try:
                await established.wait()
            except BaseException:  # connect() itself was cancelled or interrupted: so is the connection
                interrupt.request()
                raise
            if done.is_set() and outcome and not outcome[0].established:
                error = outcome[0].error
                if error is None:
                    raise LocalProtocolError("disconnect() was called before the connection was established")
                raise error
            return self._state

    async def _drive(
        self, driver: AsyncDriver, outcome: list[DriverResult], established: AsyncSignal, done: AsyncSignal
    ) -> None:
        self._driver_worker = AsyncBackend.current_worker()
        try:
            result = await driver.run()
            outcome.append(result)
            if result.error is not None:
                self._update(last_error=result.error)
        finally:
            self._driving = False
            self._driver_worker = None
            self._connection = None
            self._update(is_connected=False, upgraded_to_websocket=False)
            for channel in self._subscribers:
                channel.close_producer()
            self._subscribers.clear()
            established.set()
            done.set()

    async def disconnect(self) -> None:
        """Stop the connection; returns once it has stopped (``disconnected`` has fired).

        From a handler it only asks: the driver stops after the handler returns. Idempotent.
        """
        if not self._driving or self._interrupt is None:
            return
        self._interrupt.request()
        if self._driver_worker == AsyncBackend.current_worker():
            return
        if self._done is not None:
            await self._done.wait()

    async def wait_until_disconnected(self) -> None:
        """Wait for the final ``disconnected`` (stream end, ``disconnect()``, or the policy giving up)."""
        if self._driving and self._done is not None:
            await self._done.wait()

    async def run(self) -> ClientState:
        """Connect and deliver events until the final ``disconnected``; enters the client if needed.

        Returns:
            The state at the end (``last_error`` says why it ended, if a failure did).

        Raises:
            As :meth:`connect`.
        """
        if self._runner is not None:
            await self.connect()
            await self.wait_until_disconnected()
            return self._state
        async with self:
            await self.connect()
            await self.wait_until_disconnected()
        return self._state

    # -- delivering ----------------------------------------------------------------------------

    async def _emit(self, event: Event) -> None:
        # Called for every event: the common case (a message event, a few handlers) is kept short.
        is_message = isinstance(event, MessageEvent)
        if is_message:
            if isinstance(event, Gift) and event.extended_gift_info is None and self._gifts_by_id:
                info = self._gifts_by_id.get(event.gift_id)
                if info is not None:
                    event = dataclasses.replace(event, extended_gift_info=info)
        elif isinstance(event, Connected):
            self._update(is_connected=True, room_id=event.room_id)
        elif isinstance(event, WebSocketConnected):
            self._update(upgraded_to_websocket=True)
        elif isinstance(event, (Reconnecting, Disconnected)):
            self._update(upgraded_to_websocket=False, is_connected=not isinstance(event, Disconnected))
        if self._subscribers:
            # After disconnect() a reader that stopped reading must not hold the connection up: what
            # does not fit in its queue then is dropped.
            wait = self._interrupt is None or not self._interrupt.requested
            for channel in tuple(self._subscribers):
                if not await channel.put(event, wait=wait) and wait:  # the reader has gone
                    self._unsubscribe(channel)
        cls = type(event)
        name = _EVENT_NAMES.get(cls)
        if name is None:
            name = _EVENT_NAMES[cls] = _names.event_name(cls)
        handlers = self._handlers
        if handlers.get(name):
            await self._dispatch(name, event)
        if is_message and handlers.get(_names.RAW_DATA):
            await self._dispatch(_names.RAW_DATA, event)

    async def _dispatch(self, name: str, event: Event) -> None:
        for handler in tuple(self._handlers.get(name, ())):
            try:
                await AsyncBackend.call(handler, event)
            except (
                Exception
            ) as exc:  # issue 5: a handler's failure goes to `error`, never into the connection
                label = getattr(handler, "__qualname__", type(handler).__name__)
                error = HandlerError(
                    f"the {name!r} handler {label} raised {type(exc).__name__}: {exc}",
                    event_name=name,
                    event=event,
                )
                error.__cause__ = exc
                await self._report(error)

    def _secret_values(self) -> tuple[str | None, ...]:
        """The secrets this client holds: its session id, and the signer's key and session if any."""
        held = (getattr(self._signer, name, None) for name in ("api_key", "session_id"))
        return (self._session_id, *(value for value in held if isinstance(value, str)))

    async def _report(self, error: WebcastError) -> None:
        scrub_secrets(error, self._secret_values())  # TikTok's answers may echo them (SPEC.md §10)
        self._update(last_error=error)
        handlers = tuple(self._handlers.get(_names.ERROR, ()))
        if not handlers:
            _log.error("%s (add an 'error' handler to handle it)", error.message, exc_info=error.__cause__)
            return
        for handler in handlers:
            try:
                await AsyncBackend.call(handler, error)
            except Exception:  # an error handler's own failure has nowhere else to go
                _log.exception("the 'error' handler raised while handling: %s", error.message)
