"""The playbook's [columns.clients] and [columns.users]: an export's own headers, mapped.

    [columns.clients]
    "Account ID" = "client_id"
    "Account Owner" = "manager_email"

Each key is a header as the export writes it (compared as every header is: ignoring case,
spaces, hyphens, underscores and dots); each value is one of the tool's columns of that kind.
A mapped header is read as its column before any built-in alias; a header mapped to nothing
is read as before. The [sheets] table lists the workbook sheets that are not to be read.
"""

from __future__ import annotations

import difflib
from typing import Any

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.columns import COLUMNS, ColumnMap, fold_header
from bulk_onboard.model.records import RowKind

_KINDS = {"clients": RowKind.CLIENT, "users": RowKind.USER}


def read_columns(name: str, table: dict[str, Any]) -> ColumnMap:
    """The [columns] table (a table, as check_keys made sure) as folded header → column per
    kind; ConfigError naming the key."""
    columns: dict[RowKind, dict[str, str]] = {}
    for section, kind in _KINDS.items():
        mapping = table.get(section, {})
        if not isinstance(mapping, dict):
            raise ConfigError(
                f'{name}: columns.{section} must be a table of "Export header" = "column".'
            )
        columns[kind] = {
            _header(name, section, header): _column(name, section, kind, header, value)
            for header, value in mapping.items()
        }
    return {kind: mapping for kind, mapping in columns.items() if mapping}


def _header(name: str, section: str, header: str) -> str:
    folded = fold_header(header)
    if not folded:
        raise ConfigError(f"{name}: columns.{section} has an empty header; name the header.")
    return folded


def _column(name: str, section: str, kind: RowKind, header: str, value: Any) -> str:
    known = COLUMNS[kind]
    if isinstance(value, str) and value.strip() in known:
        return value.strip()
    guess = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    raise ConfigError(
        f'{name}: columns.{section} maps "{header}" to {value!r}, which is no column of a '
        f"{section} sheet{hint}; use one of {', '.join(known)}."
    )


def read_ignored_sheets(name: str, table: dict[str, Any]) -> tuple[str, ...]:
    """[sheets] ignore: the titles of workbook sheets left unread on purpose."""
    titles = table.get("ignore", [])
    if not isinstance(titles, list) or not all(isinstance(t, str) and t.strip() for t in titles):
        raise ConfigError(
            f'{name}: sheets.ignore must be a list of sheet titles, like ["Summary", "Notes"].'
        )
    return tuple(t.strip() for t in titles)
