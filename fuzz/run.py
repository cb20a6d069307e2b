"""Run a fuzzing campaign for a given time: ``python fuzz/run.py --seconds N [--target NAME ...]``.

The time is shared evenly between the chosen targets (all of them by default), each run in its own
``python -bb fuzz/fuzz.py TARGET`` process with libFuzzer's options for this project:

* ``-timeout=10``: an input taking 10 s is a hang, reported as a finding;
* ``-rss_limit_mb=2048``: a process past 2 GiB is a memory blow-up, reported as a finding;
* ``-max_len``: per target, above its largest seed (see :data:`MAX_LEN`).

Each target fuzzes a working corpus in ``fuzz/.work/corpus/TARGET`` (kept between runs, so long
campaigns resume where they stopped; not committed) seeded from the committed ``fuzz/corpus/TARGET``
and ``fuzz/regressions/TARGET`` (inputs earlier campaigns found).
Known issues (reported bugs in other owners' files, ``targets.KNOWN_ISSUES``) are tolerated unless
``--strict``. Findings are written to ``fuzz/.work/artifacts/``; replay one with
``python -bb fuzz/fuzz.py TARGET FILE``. Logs go to ``fuzz/.work/logs/``. A summary line per target
ends the run, and ``--json FILE`` writes the same numbers for ``README.md``.

atheris is installed with pip when missing; where it cannot be installed (no wheel for this Python or
platform, and no compiler able to build it), the run is skipped with a message saying so and exits 0.
Exit status: 0 when every target ran clean (or atheris is unavailable), 1 when any target found
something, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent
WORK: Final = HERE / ".work"

# The targets of targets.TARGETS, in the order they run (cheap decoders first).
TARGETS: Final = ("gunzip", "push_frame", "fetch_result", "convert", "server", "http", "connection", "proto")

# Largest input libFuzzer makes per target: above the largest seed, small enough to keep mutation
# focused. A target's limits (targets.LIMITS) are smaller still, so inputs can cross every bound.
MAX_LEN: Final = {
    "gunzip": 8 * 1024,
    "push_frame": 16 * 1024,
    "fetch_result": 32 * 1024,
    "convert": 8 * 1024,
    "server": 4 * 1024,
    "http": 16 * 1024,
    "connection": 64 * 1024,
    "proto": 64 * 1024,
}

_STAT = re.compile(r"^stat::(\w+):\s*(\d+)", re.MULTILINE)
_PROGRESS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.MULTILINE)
_ARTIFACT = re.compile(r"Test unit written to (\S+)")


@dataclass
class Outcome:
    """What one target's run did."""

    target: str
    seconds: float
    executions: int
    coverage: int
    features: int
    corpus: int
    peak_rss_mb: int
    finding: str | None  # the artifact written, if the run found something


def _have_atheris() -> bool:
    return importlib.util.find_spec("atheris") is not None


def ensure_atheris() -> str | None:
    """Install atheris with pip if it is missing. Returns why it is unavailable, or None if it is there."""
    if _have_atheris():
        return None
    sys.stdout.write("fuzz: atheris is not installed; installing it with pip …\n")
    sys.stdout.flush()
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "atheris"],
        capture_output=True,
        text=True,
        check=False,
    )
    importlib.invalidate_caches()
    if result.returncode == 0 and _have_atheris():
        return None
    detail = (result.stderr or result.stdout).strip().splitlines()
    return detail[-1] if detail else f"pip exited with status {result.returncode}"


def run_target(target: str, seconds: int, *, verbose: bool, strict: bool, seed: int | None) -> Outcome:
    """Fuzz ``target`` for ``seconds`` seconds; returns its numbers."""
    work = WORK / "corpus" / target
    artifacts = WORK / "artifacts"
    logs = WORK / "logs"
    for directory in (work, artifacts, logs):
        directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-bb",
        str(HERE / "fuzz.py"),
        target,
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        f"-max_len={MAX_LEN[target]}",
        f"-artifact_prefix={artifacts}/{target}-",
        "-print_final_stats=1",
        *([f"-seed={seed}"] if seed is not None else []),
        str(work),
        str(HERE / "corpus" / target),
    ]
    regressions = HERE / "regressions" / target
    if regressions.is_dir():  # what earlier campaigns found: seeds too
        command.append(str(regressions))
    started = time.monotonic()
    log = logs / f"{target}.log"
    with log.open("w") as out:
        env = {**os.environ, "WEBCAST_FUZZ_STRICT": "1" if strict else "0"}
        process = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    if verbose:
        sys.stdout.write(text)
    stats = {name: int(value) for name, value in _STAT.findall(text)}
    progress = _PROGRESS.findall(text)
    last = progress[-1] if progress else ("0", "0", "0", "0")
    artifact = _ARTIFACT.findall(text)
    finding = artifact[-1] if artifact else None
    if process.returncode != 0 and finding is None:
        finding = f"exit status {process.returncode}; see {log}"
    return Outcome(
        target=target,
        seconds=round(elapsed, 1),
        executions=stats.get("number_of_executed_units", int(last[0])),
        coverage=int(last[1]),
        features=int(last[2]),
        corpus=int(last[3]),
        peak_rss_mb=stats.get("peak_rss_mb", 0),
        finding=finding,
    )


def report_finding(outcome: Outcome) -> None:
    """Print what a finding needs to be reproduced where its files are gone (a CI machine)."""
    log = WORK / "logs" / f"{outcome.target}.log"
    lines = log.read_text(errors="replace").splitlines()
    start = next(
        (i for i, line in enumerate(lines) if "Uncaught Python exception" in line), max(len(lines) - 40, 0)
    )
    sys.stdout.write(f"fuzz: {outcome.target} found something; libFuzzer's report:\n")
    sys.stdout.write("".join(f"    {line}\n" for line in lines[start : start + 60]))
    artifact = Path(outcome.finding or "")
    if artifact.is_file():
        data = artifact.read_bytes()
        if len(data) <= 4096:
            sys.stdout.write(f"fuzz: the input ({len(data)} bytes, hex): {data.hex()}\n")
        sys.stdout.write(f"fuzz: replay with: python -bb fuzz/fuzz.py {outcome.target} {artifact}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=int, default=60, help="total time, shared between targets (default 60)"
    )
    parser.add_argument(
        "--target", action="append", choices=TARGETS, help="a target to run (repeatable; default: all)"
    )
    parser.add_argument("--json", type=Path, help="also write the per-target numbers to this file")
    parser.add_argument("--verbose", action="store_true", help="print libFuzzer's output")
    parser.add_argument(
        "--strict", action="store_true", help="tolerate no known issue (targets.KNOWN_ISSUES) either"
    )
    parser.add_argument("--seed", type=int, help="libFuzzer's random seed (default: a new one each run)")
    args = parser.parse_args(argv)
    targets = tuple(args.target or TARGETS)
    if args.seconds < len(targets):
        parser.error(f"--seconds must give each of the {len(targets)} targets at least 1 s")
    reason = ensure_atheris()
    if reason is not None:
        sys.stdout.write(f"fuzz: SKIPPED: atheris cannot be installed on this machine ({reason})\n")
        return 0
    share = args.seconds // len(targets)
    outcomes = []
    for target in targets:
        sys.stdout.write(f"fuzz: {target} for {share} s …\n")
        sys.stdout.flush()
        outcome = run_target(target, share, verbose=args.verbose, strict=args.strict, seed=args.seed)
        outcomes.append(outcome)
        sys.stdout.write(
            f"fuzz: {target}: {outcome.executions} executions in {outcome.seconds} s, "
            f"cov {outcome.coverage}, ft {outcome.features}, corpus {outcome.corpus}, "
            f"peak RSS {outcome.peak_rss_mb} MB, "
            f"{'FOUND ' + outcome.finding if outcome.finding else 'no findings'}\n"
        )
    total = sum(o.executions for o in outcomes)
    found = [o for o in outcomes if o.finding]
    sys.stdout.write(
        f"fuzz: {len(outcomes)} targets, {total} executions, {sum(o.seconds for o in outcomes):.0f} s, "
        f"{len(found)} with findings\n"
    )
    for outcome in found:
        report_finding(outcome)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2) + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
