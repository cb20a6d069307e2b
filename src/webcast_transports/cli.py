"""The ``webcast`` command."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the ``webcast`` command line; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="webcast", description="TikTok LIVE events from the terminal")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="watch a built-in mock live stream (zero setup)")
    ns = parser.parse_args(argv)
    if ns.command == "demo":
        sys.stdout.write("no demo yet: the mock server and the client are still being built\n")
        return 0
    return 2  # pragma: no cover  # argparse rejects unknown commands first


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
