"""The one formula-neutralising rule for every cell bulk-onboard writes (CSV or formula
injection): text that a spreadsheet program would read as a formula gets a leading apostrophe,
and reading a report back takes exactly that apostrophe off again.

The rule is reversible for every text: a value that already starts with apostrophes before a
formula character (`'=quoted`, typed by someone who escaped it by hand) gets one more, so
`restore(neutralise(v)) == v` for any v. A value with an apostrophe before anything else
(`'Brien`) is written as it is.
"""

from __future__ import annotations

FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")


def needs_prefix(value: str) -> bool:
    """Would a spreadsheet program (or `restore`) take this text for something else?"""
    return value.lstrip("'").startswith(FORMULA_FIRST)


def neutralise(value: str) -> str:
    """Make a cell inert in spreadsheet programs."""
    return "'" + value if needs_prefix(value) else value


def restore(text: str) -> str:
    """Undo `neutralise` ("'=x" was written for "=x", "''=x" for "'=x")."""
    if text.startswith("'") and needs_prefix(text[1:]):
        return text[1:]
    return text
