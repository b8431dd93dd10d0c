"""The fleet file's typed reads: the playbook's Reader (playbook/values.py), its sentences
worded for the fleet file (`<file>: <where> <key> <what>`), and its known keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulk_onboard.errors import ConfigError
from bulk_onboard.playbook.values import Reader


class FleetReader(Reader):
    """Reads the keys of one fleet file at `path`."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))

    def _fail(self, where: str, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.name}: {where} {key} {what}")

    def known(self, table: dict[str, Any], where: str, keys: set[str]) -> None:
        """Every key of `table` is one of `keys` (a misspelt key is not silently ignored)."""
        for key in table:
            if key not in keys:
                raise ConfigError(
                    f"{self.name}: {where} has an unknown key {key!r}; the keys there are "
                    f"{', '.join(sorted(keys))}"
                )

    def whole(self, table: dict[str, Any], where: str, key: str, low: int, high: int) -> int:
        return int(self.number(table, where, key, low=low, high=high, integer=True))
