"""``python -m webcast_transports.cli``: the ``webcast`` command without its console script."""

from __future__ import annotations

from webcast_transports.cli import main

raise SystemExit(main())
