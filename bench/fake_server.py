"""The tests' fake Bot API server in a process of its own, so that a benchmark's bot
and the server it talks to do not share one event loop (nor one CPU's worth of time)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


class FakeServerProcess:
    """Runs `script` (Python source) with `args`. The script prints the server's URL,
    serves until its stdin closes, then prints one JSON line of what it saw."""

    def __init__(self, script: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def stop(self) -> Any:
        """Stop the server; returns the JSON it printed last."""
        out, _ = self.process.communicate("", timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0
