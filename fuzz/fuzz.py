"""Run one fuzz target under atheris (libFuzzer): ``python -bb fuzz/fuzz.py TARGET [libFuzzer args]``.

The core's modules are instrumented for coverage as they are imported; everything after TARGET goes
to libFuzzer (corpus directories, ``-max_total_time=``, ``-runs=``, or one input file to replay).
Warnings are errors, so a ``BytesWarning`` under ``-bb`` or a ``DeprecationWarning`` is a finding
too. Known issues (``targets.KNOWN_ISSUES``) are tolerated unless ``WEBCAST_FUZZ_STRICT=1``. Use
``run.py`` for campaigns: it picks the options, corpus directories and time per target.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["webcast_proto", "targets", "mutator"]):
    import mutator
    import targets


def main() -> None:
    """Set up atheris for the target named by ``sys.argv[1]`` and fuzz until libFuzzer stops."""
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        sys.stderr.write(f"usage: fuzz.py TARGET [libFuzzer args]; targets: {', '.join(targets.TARGETS)}\n")
        raise SystemExit(2)
    name = sys.argv[1]
    function = targets.TARGETS[name]
    strict = os.environ.get("WEBCAST_FUZZ_STRICT", "") not in ("", "0")
    warnings.simplefilter("error")

    def test_one_input(data: bytes) -> None:
        targets.check(function, data, strict=strict)

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        return mutator.mutate(data, max_size, seed, atheris.Mutate)

    options: dict[str, Any] = {"custom_mutator": custom_mutator} if name == "proto" else {}
    atheris.Setup([sys.argv[0], *sys.argv[2:]], test_one_input, **options)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
