"""The committed protobuf bindings are exactly what scripts/gen_proto.py produces from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_bindings_are_fresh() -> None:
    """Regenerating from proto/ with the pinned protoc changes nothing."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_bindings_use_the_upb_backend() -> None:
    """The hot path relies on upb, protobuf's C parser; the pure-Python fallback is ~20x slower."""
    from google.protobuf.internal import api_implementation

    assert api_implementation.Type() == "upb"
