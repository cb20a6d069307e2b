"""Rooms per process: N asyncio clients in one process, each connected to its own room.

Run: ``python -m benchmarks.rooms [--rooms 100,1000,5000] [--period S] [--duration S] [--servers K]``

Each N runs in a fresh child process (so that one N's memory is not the next one's baseline) against
``--servers`` mock server processes (``benchmarks._server``; default one per 2,500 rooms) holding
N quiet rooms between them. The child raises its open-file limit, connects one client and
disconnects it (so that lazily imported modules and first-use caches are in the baseline), collects
garbage and reads its RSS: the baseline. Then:

1. **Connect**: N ``TikTokLiveClient`` (asyncio), one per room, by room id (no lookup, no room info),
   each with a ``chat`` handler, each in its own task (``async with client``, ``connect()``, wait),
   20 connecting at a time, as ``examples/many_rooms.py`` does (``--connect-at-once``: what
   connecting leaves behind in the allocator's partly used memory grows with it, and counts in the
   RSS of the idle rooms).
2. **Idle**: after 5 s, garbage collected: RSS per connected room beyond the baseline; then CPU over
   ``--idle`` seconds of silence (heartbeats only).
3. **Trickle**: every room gets one chat every ``--period`` seconds (the servers spread the rooms
   over the period) for ``--duration`` seconds: the client process's CPU per 1,000 msgs/s, and the
   latency from the server's write to the handler (stamped as in ``benchmarks.latency``), which
   shows whether the process keeps up.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import anyio

from benchmarks._common import (
    ServerProcess,
    cpu_seconds,
    percentile,
    raise_nofile,
    report,
    rss_bytes,
    table,
    write_readme,
)
from webcast_proto.config import Endpoints
from webcast_transports import TikTokLiveClient

if TYPE_CHECKING:
    from webcast_proto import Chat

# As examples/many_rooms.py connects (TikTok rate-limits bursts). 200 at once connects faster on
# loopback but leaves ~5 MB of the connects' transient objects as holes in the allocator's partly
# used memory, which the idle RSS then counts: 1,000 rooms measure ~23 KiB each that way, ~17.5 with
# 20-25 at once (benchmarks/README.md).
CONNECT_AT_ONCE = 20


class GcPauses:
    """How long the garbage collector stopped the process, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._start)


class Counter:
    """The chat handler of every client: counts, and keeps the latency of each chat."""

    def __init__(self) -> None:
        self.messages = 0
        self.latencies_ns: list[int] = []

    def on_chat(self, event: Chat) -> None:
        now = time.monotonic_ns()
        self.latencies_ns.append(now - int(event.comment))
        self.messages += 1


async def measure(n_rooms: int, servers: list[ServerProcess], ns: argparse.Namespace) -> dict[str, Any]:
    """The child's run (module docstring); returns the numbers."""
    counter = Counter()
    rooms = [(server, room_id) for server in servers for _, room_id in server.rooms]

    def client(server: ServerProcess, room_id: int, seed: int) -> TikTokLiveClient:
        c = TikTokLiveClient(
            room_id=room_id,
            endpoints=Endpoints.from_base_url(server.base_url),
            fetch_room_info_on_connect=False,
            process_initial_data=False,
            seed=seed,
        )
        c.on("chat", counter.on_chat)
        return c

    # Warm-up: one client through a whole connect and disconnect, outside the baseline.
    async with client(*rooms[0], seed=n_rooms) as warm:
        await warm.connect()
        await warm.disconnect()
    del warm
    gc.collect()
    baseline = rss_bytes()

    out: dict[str, Any] = {"rooms": n_rooms, "baseline_mib": baseline / 2**20}
    limiter = anyio.CapacityLimiter(ns.connect_at_once)
    failures: list[str] = []
    connected: list[TikTokLiveClient] = []
    stop = anyio.Event()

    async def watch(c: TikTokLiveClient) -> None:
        # One task per room, the client's scope inside it: how an application holds many rooms.
        async with c:
            async with limiter:
                try:
                    await c.connect()
                except Exception as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    return
            connected.append(c)
            await stop.wait()
            await c.disconnect()

    async with anyio.create_task_group() as group:
        t0 = time.monotonic()
        for i, (s, r) in enumerate(rooms):
            group.start_soon(watch, client(s, r, i))
        while len(connected) + len(failures) < n_rooms:
            await anyio.sleep(0.05)
        out["connect_s"] = time.monotonic() - t0
        out["connected"] = sum(1 for c in connected if c.state.upgraded_to_websocket)
        out["failures"] = failures[:3]
        await anyio.sleep(5)
        gc.collect()
        if ns.gc_freeze:
            gc.freeze()  # what is alive now (the connected clients) is left out of later collections
        idle_rss = rss_bytes()
        out["rss_mib"] = idle_rss / 2**20
        out["kib_per_room"] = (idle_rss - baseline) / 1024 / max(out["connected"], 1)

        cpu0, t0 = cpu_seconds(), time.monotonic()
        await anyio.sleep(ns.idle)
        out["idle_core_pct"] = (cpu_seconds() - cpu0) / (time.monotonic() - t0) * 100

        def pace(server: ServerProcess) -> dict[str, Any]:
            rate = len(server.rooms) / ns.period
            return server.command(cmd="pace", rate=rate, per_frame=1, duration=ns.duration, kind="chat")

        counter.messages = 0
        counter.latencies_ns.clear()
        gc_pauses = GcPauses()
        cpu0, t0 = cpu_seconds(), time.monotonic()
        server_cpu0 = [s.cpu_seconds() for s in servers]
        answers: list[dict[str, Any]] = []

        async def pace_one(server: ServerProcess) -> None:
            answers.append(await anyio.to_thread.run_sync(pace, server))

        async with anyio.create_task_group() as pacers:
            for server in servers:
                pacers.start_soon(pace_one, server)
        sent = sum(int(a["messages"]) for a in answers)
        deadline = time.monotonic() + 10
        while counter.messages < sent and time.monotonic() < deadline:
            await anyio.sleep(0.01)
        seconds = time.monotonic() - t0
        cpu = cpu_seconds() - cpu0
        lat = sorted(ns_ / 1000 for ns_ in counter.latencies_ns[len(counter.latencies_ns) // 20 :])
        out.update(
            sent=sent,
            received=counter.messages,
            msgs_per_s=counter.messages / seconds,
            core_pct=cpu / seconds * 100,
            core_pct_per_1k=cpu / max(counter.messages, 1) * 1000 * 100,
            p50_us=percentile(lat, 0.5),
            p99_us=percentile(lat, 0.99),
            behind=sum(int(a["behind"]) for a in answers),
            gc_max_ms=max(gc_pauses.pauses, default=0.0) * 1000,
            gc_pct=sum(gc_pauses.pauses) / seconds * 100,
            server_core_pct=[
                (s.cpu_seconds() - c0) / seconds * 100 for s, c0 in zip(servers, server_cpu0, strict=True)
            ],
        )
        t0 = time.monotonic()
        stop.set()
    out["disconnect_s"] = time.monotonic() - t0
    return out


def child(ns: argparse.Namespace) -> int:
    """Measure one N and print the numbers as one JSON line."""
    n_rooms = ns.child
    n_servers = ns.servers or max(1, math.ceil(n_rooms / 2500))
    limit = raise_nofile(4 * n_rooms + 256)
    servers: list[ServerProcess] = []
    try:
        per = math.ceil(n_rooms / n_servers)
        for k in range(n_servers):
            count = min(per, n_rooms - k * per)
            servers.append(ServerProcess(count, first=k * per))
        out = anyio.run(measure, n_rooms, servers, ns, backend="asyncio")
    finally:
        for server in servers:
            server.close()
    out["servers"] = n_servers
    out["nofile"] = limit
    print(json.dumps(out))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run each N in a child process, print the table, and write it to README.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rooms", default="100,1000,5000", help="comma-separated room counts")
    parser.add_argument("--period", type=float, default=1.0, help="seconds between a room's messages")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of trickle")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    parser.add_argument("--servers", type=int, default=0, help="server processes (default: 1 per 2,500)")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() once connected (collections skip the clients)"
    )
    parser.add_argument(
        "--connect-at-once",
        type=int,
        default=CONNECT_AT_ONCE,
        help=f"clients connecting at the same time (default {CONNECT_AT_ONCE})",
    )
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    ns = parser.parse_args(argv)
    if ns.child:
        return child(ns)

    results: list[dict[str, Any]] = []
    for n in (int(x) for x in ns.rooms.split(",")):
        args = [sys.executable, "-m", "benchmarks.rooms", "--child", str(n), "--period", str(ns.period)]
        args += ["--duration", str(ns.duration), "--idle", str(ns.idle), "--servers", str(ns.servers)]
        args += ["--gc-freeze"] if ns.gc_freeze else []
        args += ["--connect-at-once", str(ns.connect_at_once)]
        t0 = time.monotonic()
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"# N={n} failed after {time.monotonic() - t0:.0f} s:\n{done.stderr[-3000:]}")
            results.append({"rooms": n, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"# N={n}: {json.dumps(result)}")
        results.append(result)

    header = (
        "rooms", "connected", "connect s", "baseline MiB", "KiB/idle room", "idle core %",
        "msgs/s", "core %", "core % per 1k msgs/s", "p50 ms", "p99 ms", "GC max ms", "servers' core %",
    )  # fmt: skip
    rows = []
    for r in results:
        if "error" in r:
            rows.append((str(r["rooms"]), "failed", *([""] * (len(header) - 2))))
            continue
        rows.append(
            (
                f"{r['rooms']:,}",
                f"{r['connected']:,}",
                f"{r['connect_s']:.1f}",
                f"{r['baseline_mib']:.0f}",
                f"{r['kib_per_room']:.1f}",
                f"{r['idle_core_pct']:.1f}",
                f"{r['msgs_per_s']:,.0f}",
                f"{r['core_pct']:.0f}",
                f"{r['core_pct_per_1k']:.1f}",
                f"{r['p50_us'] / 1000:.1f}",
                f"{r['p99_us'] / 1000:.1f}",
                f"{r['gc_max_ms']:.0f}",
                " + ".join(f"{x:.0f}" for x in r["server_core_pct"]),
            )
        )
    result_table = table(header, rows)
    print(result_table)
    notes = [
        f"one chat per room every {ns.period:g} s for {ns.duration:g} s; idle CPU over {ns.idle:g} s; "
        "KiB per idle room = (RSS after connecting and 5 s idle − baseline) / rooms connected.",
        "core % is of one core, for the client process alone; the servers run in their own processes. "
        "GC max: the longest garbage collection during the trickle"
        + (" (gc.freeze() once connected)." if ns.gc_freeze else "."),
    ]
    if not ns.no_readme:
        write_readme("rooms", report("rooms", "Rooms per process (asyncio)", result_table, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
