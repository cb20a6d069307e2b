"""Generate the blocking transport (``src/webcast_transports/_sync/``) from the async one (``_async/``).

Only ``_async/`` is written by hand (STYLE.md §12). Each line of each module goes through the
regular-expression rules below, in order: ``async``/``await`` disappear, async dunders and
httpcore's async classes become their blocking twins, and our ``Async*`` names become the ``Sync*``
twins of ``webcast_transports._backend``. The result then goes through ``ruff check --fix`` (import
order, imports left unused by a rename) and ``ruff format`` (lines that got shorter), so the output is
as lint-clean as the source. A header marks it as generated.

    python scripts/unasync.py           # write _sync/
    python scripts/unasync.py --check   # exit 1 if _sync/ differs, is stale, or a rule is unused
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
SOURCE: Final = ROOT / "src" / "webcast_transports" / "_async"
TARGET: Final = ROOT / "src" / "webcast_transports" / "_sync"

HEADER: Final = "# Generated from {source} by scripts/unasync.py: do not edit.\n"

# (pattern, replacement), applied in order to every line. The specific rules come before the
# general ones they would otherwise be caught by (httpcore's names before ``Async*``).
RULES: Final[tuple[tuple[str, str], ...]] = (
    # Modules and documentation.
    (r"\bwebcast_transports\._async\b", "webcast_transports._sync"),
    (
        r"This is the async client, on anyio \(asyncio and trio\); the blocking one is generated from it\.",
        "This is the blocking client (sockets, a thread, no event loop), generated from the async one.",
    ),
    (r"\bon anyio \(asyncio and trio\)", "on blocking sockets, without an event loop"),
    # Context managers and iterators.
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\baiter_stream\b", "iter_stream"),
    (r"\bhandle_async_request\b", "handle_request"),
    (r"\baclose\b", "close"),
    (r"Awaitable\[(.+?)\]", r"\1"),
    # httpcore's async classes are the blocking ones without the prefix.
    (r"\bhttpcore\.Async(\w+)", r"httpcore.\1"),
    # Our own pairs: Async* → Sync*, and the client's public name.
    (r"(?<![A-Za-z0-9])Async(?=[A-Z])", "Sync"),
    (r"(?<![A-Za-z0-9_])TikTokLiveClient\b", "SyncTikTokLiveClient"),
    # The keywords.
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
)
_COMPILED: Final = tuple((re.compile(pattern), replacement) for pattern, replacement in RULES)


def unasync_text(text: str, used: set[int]) -> str:
    """Apply every rule to every line of ``text``; record in ``used`` the rules that matched."""
    lines = []
    for line in text.splitlines(keepends=True):
        for index, (pattern, replacement) in enumerate(_COMPILED):
            line, count = pattern.subn(replacement, line)
            if count:
                used.add(index)
        lines.append(line)
    return "".join(lines)


def _ruff(args: list[str], text: str, path: Path) -> str:
    """``text`` passed through ruff as if it were the file at ``path`` (so the project's config applies)."""
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(path), "-"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ruff {args[0]} failed on the generated {path.name}:\n{done.stderr}{done.stdout}")
    return done.stdout


def tidy(text: str, path: Path) -> str:
    """Sort imports, drop imports a rename left unused, and format, as ruff would for ``path``."""
    fixes = "I,F401,RUF022,SIM117"
    text = _ruff(["check", "--fix-only", "--exit-zero", "--quiet", "--select", fixes], text, path)
    return _ruff(["format", "--quiet"], text, path)


def generate(used: set[int]) -> dict[Path, str]:
    """The generated text of every ``_sync`` module, by target path."""
    out: dict[Path, str] = {}
    for source in sorted(SOURCE.glob("*.py")):
        relative = source.relative_to(ROOT).as_posix()
        target = TARGET / source.name
        text = HEADER.format(source=relative) + unasync_text(source.read_text(), used)
        out[target] = tidy(text, target)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) ``_sync/``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if _sync/ is not what would be generated")
    args = parser.parse_args(argv)
    used: set[int] = set()
    wanted = generate(used)
    unused = [RULES[i][0] for i in range(len(RULES)) if i not in used]
    existing = set(TARGET.glob("*.py"))
    if args.check:
        problems = [
            f"{path.relative_to(ROOT)} is out of date"
            for path, text in wanted.items()
            if not path.exists() or path.read_text() != text
        ]
        problems += [f"{path.relative_to(ROOT)} has no source in _async/" for path in existing - set(wanted)]
        problems += [f"unasync rule {pattern!r} matched nothing" for pattern in unused]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python scripts/unasync.py", file=sys.stderr)
        return 1 if problems else 0
    TARGET.mkdir(exist_ok=True)
    for path in existing - set(wanted):
        path.unlink()
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for pattern in unused:
        print(f"warning: unasync rule {pattern!r} matched nothing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
