"""The README's table of accepted headers lists exactly what `model/columns.py` accepts.

Each row of the table is `| sheet | `column` | what it holds | `header`, `header`, ... |`. The
test fails when columns.py gains or loses a column, a header or an alias that the table does not
show, when the table lists one columns.py does not accept, and when the table calls a column
required that is not (or the other way round).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulk_onboard.model.columns import COLUMNS, REQUIRED, accepted_headers, fold_header
from bulk_onboard.model.records import RowKind

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SHEETS = {"clients": RowKind.CLIENT, "users": RowKind.USER}
ROW = re.compile(r"^\| (clients|users) \| `([a-z_]+)` \| (.*?) \| (`.*`) \|$")


def _table() -> dict[RowKind, dict[str, tuple[str, set[str]]]]:
    """Per sheet kind: column -> (what it holds, the headers listed)."""
    table: dict[RowKind, dict[str, tuple[str, set[str]]]] = {kind: {} for kind in RowKind}
    for line in README.splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        sheet, column, holds, cell = match.groups()
        headers = re.findall(r"`([^`]+)`", cell)
        assert len(headers) == cell.count(", ") + 1, f"a header of {column} is not in backticks"
        assert len(set(headers)) == len(headers), f"{sheet} {column} lists a header twice"
        assert column not in table[SHEETS[sheet]], f"{sheet} {column} has two rows"
        table[SHEETS[sheet]][column] = (holds, set(headers))
    return table


TABLE = _table()


@pytest.mark.parametrize("kind", list(RowKind), ids=lambda k: k.value)
def test_the_table_lists_every_column_in_order(kind: RowKind) -> None:
    assert tuple(TABLE[kind]) == COLUMNS[kind]


@pytest.mark.parametrize("kind", list(RowKind), ids=lambda k: k.value)
def test_the_table_lists_exactly_the_accepted_headers(kind: RowKind) -> None:
    accepted: dict[str, set[str]] = {column: set() for column in COLUMNS[kind]}
    for header, column in accepted_headers(kind).items():
        accepted[column].add(header)
    listed = {column: headers for column, (_, headers) in TABLE[kind].items()}
    for column in COLUMNS[kind]:
        missing = accepted[column] - listed.get(column, set())
        extra = listed.get(column, set()) - accepted[column]
        assert (sorted(missing), sorted(extra)) == ([], []), (
            f"{column}: accepted but not in the README {sorted(missing)}, "
            f"in the README but not accepted {sorted(extra)}"
        )


@pytest.mark.parametrize("kind", list(RowKind), ids=lambda k: k.value)
def test_the_table_lists_headers_folded_and_says_which_are_required(kind: RowKind) -> None:
    for column, (holds, headers) in TABLE[kind].items():
        assert all(fold_header(header) == header for header in headers), column
        assert holds.startswith("required") == (column in REQUIRED[kind]), column
