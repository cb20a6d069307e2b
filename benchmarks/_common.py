"""What every benchmark shares: the machine it ran on, timing, tables, and the README's result blocks.

Each benchmark prints a table and (unless ``--no-readme``) replaces its own block in
``benchmarks/README.md``, between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``, with the table,
the command that made it, the machine and the date. Text outside the blocks is left alone.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

README = Path(__file__).resolve().parent / "README.md"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` is often empty on Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown cpu"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


def package_version(name: str) -> str:
    """The installed version of ``name``, or ``"not installed"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """One line naming the machine and software: CPU, cores, load, Python, protobuf and its backend."""
    from google.protobuf.internal import api_implementation

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{cpu_model()}, {cores} cores (load {load} at start), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"protobuf {package_version('protobuf')} ({api_implementation.Type()}), {platform.system()}"
    )


def today() -> str:
    """The date and time, UTC, to the minute."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def command() -> str:
    """The command line that ran the benchmark, as it would be typed."""
    module = sys.modules["__main__"].__spec__
    name = module.name if module is not None else sys.argv[0]
    return " ".join(["python -m", name, *sys.argv[1:]])


def best_of(make_run: Callable[[], Callable[[], object]], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds; ``make_run`` prepares each run outside the timing."""
    best = float("inf")
    for _ in range(repeat):
        run = make_run()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded so that it also reads as plain text."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def write_readme(name: str, body: str) -> None:
    """Put ``body`` into README.md's block for ``name`` (appended at the end when there is none)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text)


def report(name: str, title: str, result_table: str, notes: Sequence[str] = ()) -> str:
    """The README block of one run: the table, then how, where and when it was made."""
    lines = [
        f"### {title}",
        "",
        result_table,
        "",
        f"`{command()}` — {machine()}; {today()}.",
    ]
    if notes:
        lines.append("")
        lines.extend(f"- {note}" for note in notes)
    return "\n".join(lines)


# -- processes, memory, latency ----------------------------------------------------------------


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit); returns it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_bytes() -> int:
    """This process's resident set size now (VmRSS), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    times = os.times()
    return times.user + times.system


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` lie (nearest rank)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


class ServerProcess:
    """A mock server in its own process (``python -m benchmarks._server``), driven over its stdin."""

    def __init__(self, rooms: int, *, first: int = 0, heartbeat_interval: float = 10.0) -> None:
        import json
        import subprocess

        self._json = json
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "benchmarks._server", "--rooms", str(rooms), "--first", str(first),
                "--heartbeat-interval", str(heartbeat_interval),
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=README.parent.parent,
        )  # fmt: skip
        assert self.process.stdout is not None
        hello = json.loads(self.process.stdout.readline())
        self.base_url: str = hello["base_url"]
        self.rooms: list[tuple[str, int]] = [(name, room_id) for name, room_id in hello["rooms"]]

    def command(self, **command: object) -> dict[str, object]:
        """Send one command and wait for its answer (blocking: call it from a worker thread)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(self._json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer: dict[str, object] = self._json.loads(self.process.stdout.readline())
        return answer

    def cpu_seconds(self) -> float:
        """The server process's user + system CPU time so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def close(self) -> None:
        """Stop the server (end of its stdin) and wait for it."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
            self.process.wait()
