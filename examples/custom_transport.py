"""A transport of your own on the sans-I/O core: blocking HTTP polling with nothing but the
standard library (urllib) — no webcast_transports, no WebSocket, no event loop.

The core (``webcast_proto``) never touches the network: it hands out ``Request`` values, takes the
bytes that came back and says what happened (events) and when to come back (``next_deadline``).
A transport is the loop around it. Real TikTok wants the first fetch signed (see the signer
example); the mock server does not.

    python examples/custom_transport.py @username
    python examples/custom_transport.py mock.host --mock-url http://127.0.0.1:PORT
"""

# ruff: noqa: T201  # an example prints what it receives

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

from webcast_proto import Chat, ClientConnection, Disconnected, Gift, http
from webcast_proto.config import ClientParams, Endpoints


def perform(request: http.Request) -> http.Response:
    """The transport's only I/O: one HTTP request, its answer as the core's Response."""
    sent = urllib.request.Request(
        request.url, request.body or None, dict(request.headers), method=request.method
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:
            return http.Response(answer.status, tuple(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:  # 4xx/5xx: the core's parsers turn them into errors
        with error:
            return http.Response(error.code, tuple(error.headers.items()), error.read())


def watch(unique_id: str, endpoints: Endpoints) -> None:
    params = ClientParams()
    route = http.LIVE_PAGE_ROUTE  # username → room id
    page = perform(route.build_request(unique_id=unique_id, endpoints=endpoints, client_params=params))
    room_id = route.parse_response(page, unique_id=unique_id).room_id
    conn = ClientConnection(
        room_id=room_id, endpoints=endpoints, client_params=params, enable_websocket_upgrade=False
    )
    request: http.Request | None = conn.start()  # the first fetch
    while True:
        if request is not None:
            body = http.parse_fetch_response(perform(request))
            for event in conn.receive_fetch_response(body, time.monotonic()).events:
                if isinstance(event, Chat):
                    print(f"{event.user.nickname}: {event.comment}")
                elif isinstance(event, Gift) and event.is_final:
                    print(f"{event.user.nickname} sent {event.repeat_count} × {event.gift_name}")
                elif isinstance(event, Disconnected):  # the stream ended (a real transport resumes losses)
                    print(f"disconnected ({event.reason})")
                    return
        deadline = conn.next_deadline()  # when the next poll is due
        if deadline is not None:
            time.sleep(max(deadline - time.monotonic(), 0.0))
        conn.tick(time.monotonic())
        request = conn.request_to_send()


if __name__ == "__main__":
    mock = sys.argv[3] if sys.argv[2:3] == ["--mock-url"] else None
    watch(sys.argv[1], Endpoints.from_base_url(mock) if mock else Endpoints())
