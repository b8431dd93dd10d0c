"""Cells that many rows repeat, kept once for the whole input.

A row's cells are kept for the report as (column, value) pairs. Most of them repeat from row
to row (a type, an access, a room, a language, an empty cell): of the seven pairs of a usual
users row, six are one of a few hundred. Keeping each such pair (and its text) once instead of
once per row takes about 450 bytes a row off a run's memory; the pairs of columns that are
unique per row (e-mail addresses, ids) are not remembered, and at most LIMIT pairs are.
"""

from __future__ import annotations

from collections.abc import Mapping

Cells = tuple[tuple[str, str], ...]

# columns whose values differ from row to row: remembering them would only cost memory
UNIQUE = frozenset({"email", "client_id", "client_email", "client_name", "room_title"})
LIMIT = 50_000


class Repeats:
    """One (column, value) pair object per distinct pair, for the rows of one intake."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, str], tuple[str, str]] = {}

    def cells(self, values: Mapping[str, str]) -> Cells:
        """The row's pairs, in column order, the repeated ones shared with earlier rows."""
        pairs = self._pairs
        out: list[tuple[str, str]] = []
        for pair in values.items():
            kept = pairs.get(pair)
            if kept is None:
                kept = pair
                if pair[0] not in UNIQUE and len(pairs) < LIMIT:
                    pairs[pair] = pair
            out.append(kept)
        return tuple(out)
