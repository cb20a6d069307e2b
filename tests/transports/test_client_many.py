"""Many clients in one process do not interfere (issue 5): 200 clients, each on its own room of one
mock server, each receive exactly their own room's messages; nothing is shared between them."""

from __future__ import annotations

from collections import defaultdict
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import anyio
import pytest
from conftest import Flavour, wait_until

from webcast_proto import Chat, fixtures
from webcast_transports.mock import Room, WsOpened

if TYPE_CHECKING:
    from collections.abc import Callable

    from webcast_transports.mock import MockWebcastServer

    Serve = Callable[..., MockWebcastServer]

CLIENTS = 200
PER_ROOM = 3


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_200_clients_each_receive_only_their_room(serve: Serve, backend: str) -> None:
    """200 clients connect at once, each to its own room; every room gets three chats naming it; each
    client's handler sees exactly the three of its room, and all disconnect cleanly."""
    server = serve(*(Room(f"crowd{n}") for n in range(CLIENTS)))
    flavour = Flavour(backend)
    received: dict[int, list[Chat]] = defaultdict(list)

    async def body() -> None:
        async with AsyncExitStack() as stack:
            clients = []
            for n in range(CLIENTS):
                client = flavour.client(server, f"crowd{n}", fetch_room_info_on_connect=n % 2 == 0)
                client.on("chat", lambda event, n=n: received[n].append(event))
                clients.append(await stack.enter_async_context(client))
            async with anyio.create_task_group() as group:
                for client in clients:
                    group.start_soon(client.connect)
            assert all(client.state.upgraded_to_websocket for client in clients)
            for n in range(CLIENTS):
                server.room(f"crowd{n}").push(*(fixtures.chat(f"crowd{n} #{i}") for i in range(PER_ROOM)))
            await wait_until(
                lambda: sum(len(chats) for chats in received.values()) >= CLIENTS * PER_ROOM,
                timeout=30,
                what="every chat",
            )
            await anyio.sleep(0.1)  # room for a stray message to show up

    flavour.run(body)
    assert len(server.recorder.of(WsOpened)) == CLIENTS
    for n in range(CLIENTS):
        room_id = server.room(f"crowd{n}").room_id
        assert [c.comment for c in received[n]] == [f"crowd{n} #{i}" for i in range(PER_ROOM)]
        assert {c.room_id for c in received[n]} == {room_id}
