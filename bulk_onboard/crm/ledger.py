"""The ledger: idempotency keys the CRM has taken, kept across runs (one key per line)."""

from __future__ import annotations

import os
from pathlib import Path


class Ledger:
    """Every record the CRM took, so a nightly rerun announces only what it has not taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: set[str] = set()
        if path.exists():
            self.keys = {line.strip() for line in path.read_text().splitlines() if line.strip()}

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.keys.add(key)
