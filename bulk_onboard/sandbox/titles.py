"""Titles as the folder DAO stores them (docspace-api.md 10.1, `Global.ReplaceInvalidCharsAndTruncate`
in products/ASC.Files/Core/Helpers/Global.cs, called on every folder save: room create, folder
create, rename), worked on UTF-16 code units as .NET strings are: trimmed; longer than 170
units → cut to 170, keeping a `.ext` whose dot lies beyond unit 150; then each match of
`[\\t*\\+:"<>?|\\\\/\\p{Cs}]` replaced by `_`. A .NET regex sees code units, so `\\p{Cs}` matches
each half of a surrogate pair: an emoji (two units) becomes `__`, not only a lone surrogate."""

from __future__ import annotations

MAX_TITLE = 170
INVALID = frozenset('\t*+:"<>?|\\/')


def utf16_len(text: str) -> int:
    """Length as .NET counts it ([StringLength]): an astral character counts 2."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def _units(text: str) -> list[int]:
    raw = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]


def clean_title(title: str) -> str:
    if not title:
        return title
    units = _units(title.strip())
    if len(units) > MAX_TITLE:
        dot = max((i for i, u in enumerate(units) if u == 0x2E), default=-1)
        if dot > MAX_TITLE - 20:
            units = units[: max(MAX_TITLE - (len(units) - dot), 0)] + units[dot:]
        else:
            units = units[:MAX_TITLE]
    return "".join("_" if 0xD800 <= u <= 0xDFFF or chr(u) in INVALID else chr(u) for u in units)
