"""The one formula-neutralising rule for every cell bulk-onboard writes (CSV or formula
injection): text that a spreadsheet program would read as a formula gets a leading apostrophe,
and reading a report back takes exactly that apostrophe off again."""

from __future__ import annotations

FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Make a cell inert in spreadsheet programs."""
    return "'" + value if value.startswith(FORMULA_FIRST) else value


def restore(text: str) -> str:
    """Undo `neutralise` ("'=x" was written for "=x")."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_FIRST):
        return text[1:]
    return text
