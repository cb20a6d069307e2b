"""Latency: the server writing a frame → the user's handler called, p50/p99, on one connection.

Run: ``python -m benchmarks.latency [--duration S] [--flavour asyncio|uvloop|trio|blocking]
[--breakdown] [--no-floor]``

A mock server runs in its own process (``benchmarks._server``) with one room; one client (asyncio by
default) connects to it over loopback with a ``chat`` handler. The server publishes frames at a steady
rate; every chat's comment is a stamp (``time.monotonic_ns()`` when it is published), and the server
notes ``time.monotonic_ns()`` again immediately before it hands the frame's bytes (encoded, gzip'd and
WebSocket-framed) to its socket's asyncio transport, whose ``write`` makes the ``send`` system call at
once (the socket is idle; a busy one is written through anyio's ``send`` as before), and reports it
per stamp once the case is over. The handler notes its own ``monotonic_ns()`` (CLOCK_MONOTONIC: one
clock for the whole machine), and the latency is handler − write: the write system call and the
loopback, the client's wake-up, read and WebSocket parsing, decode and dispatch.

Other columns, so that nothing is hidden: "send()→handler" is measured from before the server calls
anyio's ``SocketStream.send`` (what this benchmark measured from until 2026-11-25; on anyio 4.16 that
``send`` only yields to the loop before writing when cancelled, so the two differ by ~2 µs, the
checks before the write). "publish→handler" adds the Python mock server's encoding, gzip and write
(~130 µs of it the server's). With ``--breakdown`` a wire tap notes when the client's driver has each
frame (read and WebSocket-parsed), splitting the latency at that point: write→read and read→handler.

The floor rows (unless ``--no-floor``): once the client's cases are over, the same server process,
pacing and stamping, read by a bare asyncio protocol in this process (``benchmarks._floor``) that
only notes the time in ``data_received``, with no WebSocket parsing, decode, ack, heartbeat or
handler (the frames are parsed after the case to find their stamps): the loopback and the wake-up
of an asyncio program on this machine, the least any asyncio client pays. Their p50 … max and CPU
are to that ``data_received``. (On uvloop, the floor runs on uvloop; for trio and blocking, on asyncio.)

Cases:

* ``1k msgs/s``: 1,000 frames a second of one chat each.
* ``20k msgs/s``: 1,000 frames a second of 20 chats each (a frame's messages share its stamp, so
  the last of a frame also waits for the handlers of the ones before it).

CPU is the client process's (user + system) over the case, per message received.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks._clients import FLAVOURS, Case, run_cases
from benchmarks._common import ServerProcess, report, table, write_readme
from benchmarks._floor import run_floor


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print the table, and write it to README.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each case")
    parser.add_argument("--flavour", choices=FLAVOURS, default="asyncio")
    parser.add_argument(
        "--breakdown", action="store_true", help="split each latency at the socket read (a wire tap)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor rows (bare asyncio protocol)")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    ns = parser.parse_args(argv)
    cases = [
        Case("1k msgs/s (1,000 frames/s × 1)", 1000, 1, ns.duration),
        Case("20k msgs/s (1,000 frames/s × 20)", 1000, 20, ns.duration),
    ]
    server = ServerProcess(1)
    try:
        outcomes = run_cases(ns.flavour, server, cases, all_events=False, breakdown=ns.breakdown)
        uvloop = ns.flavour == "uvloop"
        floors = [] if ns.no_floor else [run_floor(server, case, uvloop=uvloop) for case in cases]
    finally:
        server.close()
    header: tuple[str, ...] = (
        "case",
        "msgs/s",
        "received",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "max µs",
        "CPU µs/msg",
        "publish→handler p50/p99 µs",
        "send()→handler p50/p99 µs",
    )
    if ns.breakdown:
        header += ("write→read p50/p99 µs", "read→handler p50/p99 µs")
    rows = []
    for outcome in outcomes:
        cells = outcome.row()
        rows.append((outcome.case.label, *(cells[h] for h in header[1:])))
    floor_name = "uvloop" if ns.flavour == "uvloop" else "asyncio"
    for outcome in floors:
        cells = outcome.row()
        cells["publish→handler p50/p99 µs"] = cells["publish→handler p50/p99 µs"] + " (→ read)"
        if ns.breakdown:
            cells["write→read p50/p99 µs"] = _pair_of(cells, "p50 µs", "p99 µs")
            cells["read→handler p50/p99 µs"] = "-"
        label = f"floor: bare {floor_name} protocol, {outcome.case.label.split(' (')[0]}"
        rows.append((label, *(cells[h] for h in header[1:])))
    result = table(header, rows)
    print(result)
    behind = [
        f"{o.case.label}: the server fell {o.behind} frames behind" for o in [*outcomes, *floors] if o.behind
    ]
    for line in behind:
        print(f"# {line}")
    notes = [
        f"{ns.flavour} client, {ns.duration:g} s a case after a 0.5 s warm-up; the first 5% of samples "
        "(at most 200) are dropped; the server process uses "
        + ", ".join(f"{o.server_cpu / o.seconds * 100:.0f}%" for o in outcomes)
        + " of a core.",
        "p50 … max: from the server handing the frame's bytes to its socket (just before its "
        "transport's write, the system call) to the handler being called; send()→handler: from "
        "before the server calls anyio's send (the measure until 2026-11-25); publish→handler: "
        "from the server's stamp, before it encodes, gzips and writes.",
        *behind,
    ]
    if floors:
        notes.append(
            f"floor rows: the same server, pacing and stamps, read by a bare {floor_name} protocol "
            "that only notes the time in data_received (no WebSocket parse, decode, ack or handler; "
            "the frames are parsed after the case): the loopback and an asyncio program's wake-up "
            "on this machine. Their p50 … max and CPU are to that read; the server process uses "
            + ", ".join(f"{o.server_cpu / o.seconds * 100:.0f}%" for o in floors)
            + " of a core."
        )
    if ns.breakdown:
        notes.append(
            "write→read: the server's write system call, the loopback, and the client waking up, "
            "reading the socket and parsing the WebSocket frame; read→handler: decode and dispatch "
            "(a wire tap notes the read, adding a few µs)."
        )
    if not ns.no_readme:
        name = "latency-breakdown" if ns.breakdown else "latency"
        title = "Latency: server write → handler" + (", split at the read" if ns.breakdown else "")
        write_readme(name, report(name, title, result, notes))
    return 0


def _pair_of(cells: dict[str, str], low: str, high: str) -> str:
    return f"{cells[low]} / {cells[high]}"


if __name__ == "__main__":
    sys.exit(main())
