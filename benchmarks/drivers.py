"""Drivers: the same decode + dispatch workload through the asyncio, trio and blocking clients.

Run: ``python -m benchmarks.drivers [--rate F] [--duration S]``

For each flavour in turn, one client connects to a mock server in its own process
(``benchmarks._server``) and receives the realistic mix (``fixtures.realistic_mix`` in frames of
1-40 messages, each frame ending with a chat stamped with the send time) at ``--rate`` frames a
second. Its handlers: ``rawData`` (every message event, so every method is converted) counts, and
``chat`` keeps the latency from the server's write (as in ``benchmarks.latency``). Reported:
messages handled per second, the client process's CPU per message and as a share of one core per
1,000 msgs/s, and the chats' latency.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks._clients import FLAVOURS, Case, run_cases
from benchmarks._common import ServerProcess, report, table, write_readme


def main(argv: list[str] | None = None) -> int:
    """Run each flavour, print the table, and write it to README.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="frames a second (~10 messages each)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each flavour's run")
    parser.add_argument("--flavours", default=",".join(FLAVOURS))
    parser.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    ns = parser.parse_args(argv)
    case = Case("mix", ns.rate, 0, ns.duration, kind="mix")
    header = ("driver", "msgs/s", "received", "CPU µs/msg", "core % per 1k msgs/s", "p50 µs", "p99 µs")
    rows = []
    server_load = []
    for flavour in ns.flavours.split(","):
        server = ServerProcess(1)
        try:
            (outcome,) = run_cases(flavour, server, [case], all_events=True)
        finally:
            server.close()
        cells = outcome.row()
        rows.append((flavour, *(cells[h] for h in header[1:])))
        server_load.append(f"{flavour} {outcome.server_cpu / outcome.seconds * 100:.0f}%")
    result = table(header, rows)
    print(result)
    notes = [
        f"{ns.rate:g} frames/s of the mix (~{ns.rate * 10.2:,.0f} msgs/s) for {ns.duration:g} s per driver, "
        "after a 0.5 s warm-up; a fresh server process for each; server CPU: " + ", ".join(server_load) + ".",
    ]
    if not ns.no_readme:
        write_readme("drivers", report("drivers", "Drivers: asyncio, trio, blocking", result, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
