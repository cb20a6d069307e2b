"""Secrets never leak (issue 7, item 5): with a session id and a sign-server API key configured, every
error path of the core and of the client is driven, with every ``webcast.*`` logger at DEBUG, and
neither string appears anywhere a user or a log could see it:

* any log record, its message formatted with its arguments and any traceback attached;
* the ``str``, ``repr`` and formatted traceback (causes included) of every exception raised to the
  caller or reported to ``error`` handlers;
* every event delivered (``repr``, ``str`` and JSON form);
* the ``repr`` of every object that holds a secret: requests, signers, the client and its state, the
  connection's instructions, the mock server's records.

The sign server is made to echo both secrets back in its error messages (as real ones do with keys),
which the signers promise to scrub. TikTok's own routes and the push server behave as the mock plays
them; ``test_secrets_echoed_by_tiktok_are_not_scrubbed`` holds what happens when they echo too.

The client part runs in each flavour; it borrows the transport tests' harness (``Flavour``,
``Collector``) from ``tests/transports/conftest.py``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from webcast_proto import (
    APIError,
    ClientConnection,
    ConnectError,
    EulerSigner,
    HTTPError,
    HTTPStatusError,
    InvalidSession,
    Response,
    SignatureRequired,
    UserNotFound,
    WebcastError,
    codec,
    http,
)
from webcast_proto import fixtures as fx
from webcast_proto.config import ClientParams, Endpoints
from webcast_proto.signing import LegacySigner, apply_signature
from webcast_transports import TikTokLiveClient
from webcast_transports._names import known_names
from webcast_transports.mock import (
    CloseSocket,
    EndStream,
    GarbageFrame,
    HttpFault,
    MockWebcastServer,
    Options,
    RefuseHandshake,
    Room,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

SESSION_ID: Final = "sid0SESSION0b7f3c9d2e8a41f6"
API_KEY: Final = "key0APIKEY0c41d8e7f2a9b3356"
SECRETS: Final = (SESSION_ID, API_KEY)
ECHO: Final = f"denied for key {API_KEY} and session {SESSION_ID}"  # what a careless server answers
IDC: Final = "useast1a"
WS_PATH: Final = "/webcast/im/ws_proxy/ws_reuse_supplement/"


def _harness() -> ModuleType:
    """``tests/transports/conftest.py``, for its Flavour and Collector (not a package)."""
    path = Path(__file__).resolve().parent / "transports" / "conftest.py"
    spec = importlib.util.spec_from_file_location("webcast_transports_test_harness", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


harness = _harness()


class Exposure:
    """Every text a user or a log could see, with where it came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def shown(self, where: str, value: object) -> None:
        self.texts += [(f"repr of {where}", repr(value)), (f"str of {where}", str(value))]

    def exception(self, where: str, exc: BaseException) -> None:
        self.shown(where, exc)
        formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.texts.append((f"traceback of {where}", formatted))
        cause = exc.__cause__ or exc.__context__
        if cause is not None:
            self.exception(f"cause of {where}", cause)

    def raised(self, where: str, call: Callable[[], object], expected: type[Exception]) -> Exception:
        """Call ``call``, which must raise ``expected``; keep what it raised."""
        with pytest.raises(expected) as caught:
            call()
        self.exception(where, caught.value)
        return caught.value

    def event(self, where: str, event: object) -> None:
        self.shown(where, event)
        to_json = getattr(event, "to_json", None)
        if to_json is not None:
            self.texts.append((f"JSON of {where}", json.dumps(to_json(), default=str)))

    def records(self, records: list[logging.LogRecord]) -> None:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            self.texts.append((f"log record of {record.name}", formatter.format(record)))

    def leaks(self) -> list[str]:
        return [f"{where}: {text[:300]}" for where, text in self.texts for s in SECRETS if s in text]


@pytest.fixture
def webcast_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every ``webcast.*`` logger at DEBUG, captured."""
    with caplog.at_level(logging.DEBUG, logger="webcast"):
        yield caplog


# --------------------------------------------------------------------------------------------
# The core: builders, signers and parsers, each error path
# --------------------------------------------------------------------------------------------


def _json(status: int, value: object, *headers: tuple[str, str]) -> Response:
    return Response(status, (("Content-Type", "application/json"), *headers), json.dumps(value).encode())


def _core_paths(exposure: Exposure) -> None:
    endpoints = Endpoints.from_base_url("https://sign.example")
    params = ClientParams()
    cookies = {"sessionid": SESSION_ID, "tt-target-idc": IDC}
    signer = EulerSigner(endpoints=endpoints, api_key=API_KEY, session_id=SESSION_ID, tt_target_idc=IDC)
    legacy = LegacySigner(headers=(("X-Api-Key", API_KEY),))
    exposure.shown("EulerSigner", signer)
    exposure.shown("LegacySigner", legacy)

    # Requests carrying the secrets (headers, bodies): their reprs redact them.
    fetch = http.build_fetch_request(endpoints=endpoints, client_params=params, room_id=7, cookies=cookies)
    requests = {
        "im/fetch request": fetch,
        "room info request": http.build_room_info_request(
            endpoints=endpoints, client_params=params, room_id=7, cookies=cookies
        ),
        "send chat request": http.build_send_chat_request(
            endpoints=endpoints, client_params=params, room_id=7, text="hi", session_id=SESSION_ID
        ),
        "sign_url request": signer.sign_request(fetch),
        "sign fetch request": signer.build_fetch_request(room_id=7, user_agent="UA", platform="mobile"),
        "sign room id request": signer.build_room_id_request(unique_id="someone"),
        "sign chat request": signer.build_chat_request(room_id=7, content="hi"),
        "old sign_url request": legacy.sign_request(fetch),
    }
    for where, request in requests.items():
        exposure.shown(where, request)
        assert all(secret not in request.url for secret in SECRETS), f"{where} puts a secret in its URL"

    # The connection's requests and instructions.
    conn = ClientConnection(room_id=7, cookies=cookies)
    exposure.shown("ClientConnection.start()", conn.start())
    outcome = conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result([fx.chat()])), 0.0)
    exposure.shown("FetchOutcome", outcome)

    # Values refused before anything is sent: the messages name the field, never the value.
    bad_session = SESSION_ID + "; x"
    for where, call in {
        "cookie_header": lambda: http.cookie_header({"sessionid": bad_session}),
        "build_send_chat_request": lambda: http.build_send_chat_request(
            endpoints=endpoints, client_params=params, room_id=7, text="hi", session_id=bad_session
        ),
        "EulerSigner(api_key=…\\n)": lambda: EulerSigner(api_key=API_KEY + "\n"),
        "EulerSigner(session_id=… without idc)": lambda: EulerSigner(session_id=SESSION_ID),
        "EulerSigner(session_id=…;)": lambda: EulerSigner(session_id=bad_session, tt_target_idc=IDC),
        "TikTokLiveClient(session_id=…;)": lambda: TikTokLiveClient("x", session_id=bad_session),
    }.items():
        exposure.raised(where, call, ValueError)

    # The sign server echoes both secrets in every error it can give: the signers scrub them.
    echo = {"code": 500, "message": ECHO, "error": ECHO, "limit_label": ECHO}
    for status in (401, 402, 403, 429, 500, 503):
        response = _json(status, echo, ("Retry-After", "1"))
        for name, parse in {
            "sign_url": signer.parse_sign_response,
            "sign fetch": signer.parse_fetch_response,
            "sign chat": signer.parse_chat_response,
            "sign room id": signer.parse_room_id_response,
        }.items():
            exposure.raised(f"{name} HTTP {status}", lambda p=parse, r=response: p(r), HTTPError)  # type: ignore[misc]
    for where, call in {
        "sign_url code 500": lambda: signer.parse_sign_response(_json(200, echo)),
        "sign fetch JSON": lambda: signer.parse_fetch_response(_json(200, {"code": 0, "message": ECHO})),
        "sign room id not ok": lambda: signer.parse_room_id_response(
            _json(200, {"ok": False, "message": ECHO})
        ),
        "sign chat TikTok error": lambda: signer.parse_chat_response(
            _json(200, {"code": 0, "data": {"status_code": 7, "data": {"message": ECHO}}})
        ),
        "sign chat expired session": lambda: signer.parse_chat_response(
            _json(200, {"code": 0, "data": {"status_code": 20003, "data": {"message": ECHO}}})
        ),
        "sign_url elsewhere": lambda: apply_signature(
            fetch,
            signer.parse_sign_response(
                _json(200, {"response": {"signedUrl": "https://evil.example/?msToken=1"}})
            ),
        ),
    }.items():
        exposure.raised(where, call, HTTPError)

    # TikTok's ordinary refusals of a request that carried the session.
    for where, call, expected in (
        (
            "send chat expired",
            lambda: http.parse_send_chat_response(_json(200, {"status_code": 20003})),
            InvalidSession,
        ),
        ("room info 500", lambda: http.parse_room_info_response(_json(500, {})), HTTPStatusError),
        ("im/fetch 429", lambda: http.parse_fetch_response(_json(429, {}, ("Retry-After", "3"))), HTTPError),
    ):
        exposure.raised(where, call, expected)


# --------------------------------------------------------------------------------------------
# The client, in each flavour, against a mock server that wants the key and refuses the session
# --------------------------------------------------------------------------------------------


def _client_paths(flavour: Any, exposure: Exposure) -> None:
    options = Options(
        fetch_interval_ms=50, api_key=API_KEY, session_ids=frozenset({"another-account"}),
        stream_end_close_delay=0.2,
    )  # fmt: skip
    server = MockWebcastServer([Room("sol")], options=options).start()
    try:
        _drive_client(flavour, server, exposure)
    finally:
        server.stop()
    for record in server.recorder.all():
        exposure.shown("mock record", record)


def _drive_client(flavour: Any, server: MockWebcastServer, exposure: Exposure) -> None:
    room = server.room("sol")
    signer = EulerSigner(
        endpoints=server.endpoints(), api_key=API_KEY, session_id=SESSION_ID, tt_target_idc=IDC
    )
    collector = harness.Collector()
    names = sorted(known_names())

    def failing_handler(event: object) -> None:
        raise RuntimeError("a handler failed")

    async def body() -> None:
        client = flavour.client(
            server, "sol", session_id=SESSION_ID, signer=signer, authenticate_websocket=True,
            liveness_timeout=0.4, heartbeat_interval=0.1,
        )  # fmt: skip
        collector.listen(client, *names)
        client.on("chat", failing_handler)
        async with client:
            exposure.shown("client", client)
            room.inject(HttpFault(status=503, path="/webcast/room/info/", message="busy"))
            with pytest.raises(HTTPStatusError) as caught:
                await client.connect()
            exposure.exception("connect() with room info 503", caught.value)
            room.inject(HttpFault(status=401, path="/webcast/fetch", message=ECHO))
            with pytest.raises(SignatureRequired) as refused:
                await client.connect()
            exposure.exception("connect() with the sign server refusing", refused.value)
            room.inject(HttpFault(status=429, path="/webcast/fetch", retry_after=0.05, message=ECHO))
            await client.connect()
            with pytest.raises(InvalidSession) as expired:
                await client.send_message("hello")
            exposure.exception("send_message() with a refused session", expired.value)
            room.push(fx.chat("to the failing handler"))
            room.inject(GarbageFrame())
            await harness.wait_until(collector.has("reconnecting", 1), what="the garbage")
            room.inject(HttpFault(status=500, path="/webcast/fetch", message=ECHO))
            room.inject(CloseSocket(code=1011, reason="server error"))
            await harness.wait_until(collector.has("reconnecting", 3), what="the sign server error")
            room.inject(RefuseHandshake(message="illegal secret key"))
            await harness.wait_until(collector.has("reconnecting", 4), what="the refused handshake")
            await harness.wait_until(collector.has("reconnecting", 5), what="the liveness timeout")
            await harness.wait_until(collector.has("websocketConnected", 4), what="a socket again")
            exposure.shown("client state", client.state)
            room.inject(EndStream())
            await client.wait_until_disconnected()
            exposure.shown("client state at the end", client.state)
        nobody = flavour.client(server, "nobody.here", session_id=SESSION_ID, signer=signer)
        async with nobody:
            with pytest.raises(UserNotFound) as missing:
                await nobody.connect()
            exposure.exception("connect() to an unknown user", missing.value)
        for where, base in (
            ("a host that does not resolve", "http://secrets.invalid"),
            ("a plain HTTP server over TLS", f"https://127.0.0.1:{server.port}"),
        ):
            unreachable = flavour.client(
                server, "sol", session_id=SESSION_ID, signer=signer, endpoints=Endpoints.from_base_url(base)
            )
            async with unreachable:
                with pytest.raises(ConnectError) as failed:
                    await unreachable.connect()
                exposure.exception(f"connect() to {where}", failed.value)

    flavour.run(body)
    for name, item in collector.items:
        if isinstance(item, BaseException):
            exposure.exception(f"reported to {name}", item)
        else:
            exposure.event(f"{name} event", item)
    reported = collector.of("error")
    kinds = {type(e).__name__ for e in reported}
    assert {"HandlerError", "RemoteProtocolError", "SignerError", "WebcastBlocked"} <= kinds, kinds
    assert all(isinstance(e, WebcastError) for e in reported)


@pytest.mark.parametrize("flavour_name", ["asyncio", "trio", "blocking"])
def test_secrets_never_leak(flavour_name: str, webcast_logs: pytest.LogCaptureFixture) -> None:
    """Neither the session id nor the API key appears in any log record, exception, event or repr,
    whatever fails, core or client."""
    exposure = Exposure()
    _core_paths(exposure)
    _client_paths(harness.Flavour(flavour_name), exposure)
    records = [r for r in webcast_logs.records if r.name.startswith("webcast")]
    assert {r.name for r in records} >= {"webcast.client", "webcast.driver", "webcast.http", "webcast.mock"}
    assert any(r.levelno == logging.DEBUG for r in records)
    exposure.records(records)
    assert len(exposure.texts) > 200  # the paths above were all taken
    assert exposure.leaks() == [], "\n".join(exposure.leaks())


def test_a_scrubbed_sign_chat_error_keeps_no_unscrubbed_context() -> None:
    """Regression: EulerSigner.parse_chat_response scrubbed TikTok's quoted text but raised the clean
    error inside the handler, so the original, secrets and all, stayed reachable as ``__context__``
    (hidden by ``from None`` from tracebacks, not from code that walks the chain)."""
    signer = EulerSigner(api_key=API_KEY, session_id=SESSION_ID, tt_target_idc=IDC)
    answer = _json(200, {"code": 0, "data": {"status_code": 7, "data": {"message": ECHO}}})
    with pytest.raises(APIError) as caught:
        signer.parse_chat_response(answer)
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None
    assert all(secret not in caught.value.message for secret in SECRETS)


def test_secrets_echoed_by_tiktok_are_scrubbed() -> None:
    """If TikTok echoed the session id in an error answer, the client's error says <redacted> instead:
    the core's parsers quote TikTok's text, and the client scrubs every error it raises or reports."""
    exposure = Exposure()
    flavour = harness.Flavour("asyncio")
    server = MockWebcastServer([Room("tao")], options=Options(fetch_interval_ms=50)).start()
    try:

        async def body() -> None:
            server.room("tao").inject(HttpFault(status=400, path="/webcast/room/chat/", message=ECHO))
            signer = EulerSigner(
                endpoints=server.endpoints(), api_key=API_KEY, session_id=SESSION_ID, tt_target_idc=IDC
            )
            client = flavour.client(server, "tao", session_id=SESSION_ID, signer=signer)
            async with client:
                await client.connect()
                with pytest.raises(HTTPStatusError) as caught:
                    await client.send_message("hello")
                exposure.exception("send_message() answered 400 with the session quoted", caught.value)

        flavour.run(body)
    finally:
        server.stop()
    assert exposure.leaks() == []
