"""Running one client of each flavour (asyncio, trio, blocking) against a server process, for the
latency and driver benchmarks: connect, ask the server to pace frames, collect what the handlers saw.

The handlers: ``chat`` reads the stamp from the comment (``benchmarks._server`` stamps it with
``time.monotonic_ns()`` when it publishes; a clock shared by every process of the machine) and notes
``(stamp, now)``. Once a case is over, the server's answer says when the frame of each stamp was
handed to its socket, and the latency is ``now - written``: the server's write → the handler;
``now - stamp`` (publish → handler) adds the server's encoding, gzip and write. ``rawData`` (with
``--all-events``: every message event, which makes the client convert every method) counts. Both
are plain functions, as all three flavours accept them.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from benchmarks._common import cpu_seconds, percentile
from webcast_proto.config import Endpoints
from webcast_proto.recording import Direction, WireKind
from webcast_transports import SyncTikTokLiveClient, TikTokLiveClient

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks._common import ServerProcess
    from webcast_proto import Chat, Event
    from webcast_proto.recording import WireRecord

# "uvloop": the asyncio client on uvloop's event loop (anyio's ``use_uvloop``), which a user may
# choose; offered where uvloop is installed (the ``bench`` extra has it).
FLAVOURS = tuple(
    name
    for name in ("asyncio", "uvloop", "trio", "blocking")
    if name != "uvloop" or importlib.util.find_spec("uvloop") is not None
)


@dataclass(frozen=True, slots=True)
class Case:
    """One paced run: ``rate`` frames a second of ``per_frame`` messages (or of the mix)."""

    label: str
    rate: float
    per_frame: int
    duration: float
    kind: str = "chat"


@dataclass(slots=True)
class Outcome:
    """What one case gave: messages sent and received, the chats' latencies, the client's CPU."""

    case: Case
    sent: int = 0
    received: int = 0
    behind: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    server_cpu: float = 0.0
    latencies_us: list[float] = field(default_factory=list)  # server's write → handler
    from_send_us: list[float] = field(default_factory=list)  # server's call of anyio's send → handler
    from_stamp_us: list[float] = field(default_factory=list)  # server's publish → handler
    to_read_us: list[float] = field(default_factory=list)  # server's write → client's read
    read_to_handler_us: list[float] = field(default_factory=list)

    def row(self) -> dict[str, str]:
        """The numbers as table cells."""
        lat = sorted(self.latencies_us)
        rate = self.received / self.seconds if self.seconds else 0.0
        return {
            "msgs/s": f"{rate:,.0f}",
            "received": f"{self.received}/{self.sent}",
            "p50 µs": f"{percentile(lat, 0.50):,.0f}",
            "p90 µs": f"{percentile(lat, 0.90):,.0f}",
            "p99 µs": f"{percentile(lat, 0.99):,.0f}",
            "max µs": f"{lat[-1]:,.0f}" if lat else "-",
            "publish→handler p50/p99 µs": _pair(self.from_stamp_us),
            "send()→handler p50/p99 µs": _pair(self.from_send_us),
            "write→read p50/p99 µs": _pair(self.to_read_us),
            "read→handler p50/p99 µs": _pair(self.read_to_handler_us),
            "CPU µs/msg": f"{self.cpu / self.received * 1e6:.1f}" if self.received else "-",
            "core % per 1k msgs/s": f"{self.cpu / self.received * 1e5:.1f}" if self.received else "-",
        }


def _pair(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{percentile(ordered, 0.5):,.0f} / {percentile(ordered, 0.99):,.0f}"


class _Collector:
    """The handlers' state (and the wire tap's, with ``breakdown``)."""

    def __init__(self) -> None:
        self.messages = 0
        self.seen_ns: list[tuple[int, int, int]] = []  # (stamp, read or 0, handler called)
        self.read_at_ns = 0  # when the frame being handled was read off the socket

    def on_tap(self, record: WireRecord) -> None:
        if record.direction is Direction.IN and record.kind is WireKind.WS:
            self.read_at_ns = int(record.at * 1e9)

    def on_chat(self, event: Chat) -> None:
        now = time.monotonic_ns()
        self.seen_ns.append((int(event.comment), self.read_at_ns, now))

    def on_raw(self, event: Event) -> None:
        self.messages += 1

    def on_chat_counted(self, event: Chat) -> None:
        now = time.monotonic_ns()
        self.seen_ns.append((int(event.comment), self.read_at_ns, now))
        self.messages += 1


def _options(server: ServerProcess, collector: _Collector, breakdown: bool) -> dict[str, Any]:
    return {
        "wire_tap": collector.on_tap if breakdown else None,
        "room_id": server.rooms[0][1],
        "endpoints": Endpoints.from_base_url(server.base_url),
        "fetch_room_info_on_connect": False,
        "process_initial_data": False,
        "reconnect": None,
        "seed": 1,
    }


def _register(
    client: TikTokLiveClient | SyncTikTokLiveClient, collector: _Collector, all_events: bool
) -> None:
    if all_events:
        client.on("chat", collector.on_chat)
        client.on("rawData", collector.on_raw)
    else:
        client.on("chat", collector.on_chat_counted)


def pace(server: ServerProcess, case: Case) -> dict[str, Any]:
    """Have the server pace ``case`` on its first room; its answer once the case is over."""
    return server.command(
        cmd="pace", rate=case.rate, per_frame=case.per_frame, duration=case.duration, kind=case.kind
    )


def finish(
    case: Case,
    seen_ns: Sequence[tuple[int, int, int]],
    received: int,
    answer: dict[str, Any],
    seconds: float,
    cpu: float,
) -> Outcome:
    """The outcome of a case from what was seen: ``(stamp, read, handled)`` per chat (``read`` 0 when
    not noted) and the server's answer (its write times per stamp)."""
    skip = min(len(seen_ns) // 20, 200)  # the first ones pay for warm caches
    seen = seen_ns[skip:]
    written: dict[str, int] = answer.get("written", {})
    send_called: dict[str, int] = answer.get("send_called", {})
    latencies, from_send, from_stamp, to_read, read_to_handler = [], [], [], [], []
    for stamp, read, now in seen:
        from_stamp.append((now - stamp) / 1000)
        at = written.get(str(stamp))
        if at is None:  # not reported (the server's answer is late): no write time to measure from
            continue
        latencies.append((now - at) / 1000)
        from_send.append((now - send_called.get(str(stamp), at)) / 1000)
        if read:
            to_read.append((read - at) / 1000)
            read_to_handler.append((now - read) / 1000)
    return Outcome(
        case=case,
        sent=int(answer["messages"]),
        received=received,
        behind=int(answer["behind"]),
        seconds=seconds,
        cpu=cpu,
        latencies_us=latencies,
        from_send_us=from_send,
        from_stamp_us=from_stamp,
        to_read_us=to_read,
        read_to_handler_us=read_to_handler,
    )


SETTLE_TIMEOUT = 5.0  # seconds the handlers may lag behind the server's last frame


def run_cases(
    flavour: str,
    server: ServerProcess,
    cases: Sequence[Case],
    *,
    all_events: bool,
    warmup: float = 0.5,
    breakdown: bool = False,
) -> list[Outcome]:
    """Connect a client of ``flavour`` to the server's first room and run each case in turn.

    While a case runs, the only other thread of the client process is blocked reading the server's
    answer, and the wait for the handlers to catch up sleeps in 5 ms steps: the client's CPU time
    is the driver's and the handlers'. With ``breakdown``, a wire tap notes when each frame is read
    off the socket, splitting each latency in two (the tap costs a few µs a frame).
    """
    outcomes: list[Outcome] = []
    warm = Case("warm-up", 200, 1, warmup, cases[0].kind) if warmup else None

    def begin(collector: _Collector) -> tuple[float, float, float]:
        collector.messages = 0
        collector.seen_ns.clear()
        return server.cpu_seconds(), cpu_seconds(), time.monotonic()

    def end(
        case: Case, collector: _Collector, answer: dict[str, Any], marks: tuple[float, float, float]
    ) -> Outcome:
        server_cpu0, cpu0, t0 = marks
        seconds, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
        outcome = finish(case, collector.seen_ns, collector.messages, answer, seconds, cpu)
        outcome.server_cpu = server.cpu_seconds() - server_cpu0
        return outcome

    if flavour == "blocking":
        collector = _Collector()
        with SyncTikTokLiveClient(**_options(server, collector, breakdown)) as client:
            _register(client, collector, all_events)
            client.connect()
            for case in [warm, *cases] if warm is not None else cases:
                marks = begin(collector)
                answer = pace(server, case)
                deadline = time.monotonic() + SETTLE_TIMEOUT
                while collector.messages < int(answer["messages"]) and time.monotonic() < deadline:
                    time.sleep(0.005)
                if case is not warm:
                    outcomes.append(end(case, collector, answer, marks))
            client.disconnect()
        return outcomes

    async def main() -> None:
        collector = _Collector()
        async with TikTokLiveClient(**_options(server, collector, breakdown)) as client:
            _register(client, collector, all_events)
            await client.connect()
            for case in [warm, *cases] if warm is not None else cases:
                marks = begin(collector)
                answer = await anyio.to_thread.run_sync(pace, server, case)
                deadline = time.monotonic() + SETTLE_TIMEOUT
                while collector.messages < int(answer["messages"]) and time.monotonic() < deadline:
                    await anyio.sleep(0.005)
                if case is not warm:
                    outcomes.append(end(case, collector, answer, marks))
            await client.disconnect()

    if flavour == "uvloop":
        anyio.run(main, backend="asyncio", backend_options={"use_uvloop": True})
    else:
        anyio.run(main, backend=flavour)
    return outcomes
