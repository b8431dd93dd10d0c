"""The checks every table of the fleet file shares: known keys, strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulk_onboard.errors import ConfigError


def known(path: Path, where: str, table: dict[str, Any], keys: set[str]) -> None:
    """Every key of `table` is one of `keys` (a misspelt key is not silently ignored)."""
    for key in table:
        if key not in keys:
            raise ConfigError(
                f"{path}: {where} has an unknown key {key!r}; the keys there are "
                f"{', '.join(sorted(keys))}"
            )


def text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f'{path}: {where} must be a string in quotes, e.g. "reports"')
    return value
