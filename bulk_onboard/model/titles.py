"""Titles as the portal stores them."""

from __future__ import annotations

# How the folder DAO stores every room and folder title (docspace-api.md 10.1,
# `Global.ReplaceInvalidCharsAndTruncate` in products/ASC.Files/Core/Helpers/Global.cs), on
# UTF-16 code units as .NET strings are: trimmed; longer than 170 units → cut to 170, keeping
# a `.ext` whose dot lies beyond unit 150; then each match of `[\t*\+:"<>?|\\/\p{Cs}]` → `_`.
# A .NET regex sees code units, so `\p{Cs}` matches each half of a surrogate pair: an emoji
# is stored as `__`.
TITLE_MAX = 170
_TITLE_INVALID = frozenset('\t*+:"<>?|\\/')


def stored_title(title: str) -> str:
    """The title the portal keeps for a room or folder saved with `title`: what to compare the
    portal's titles with (`Import/Export` is stored as `Import_Export`, `Docs 😀` as `Docs __`)."""
    if not title:
        return title
    raw = title.strip().encode("utf-16-le", "surrogatepass")
    units = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]
    if len(units) > TITLE_MAX:
        dot = max((i for i, u in enumerate(units) if u == 0x2E), default=-1)
        if dot > TITLE_MAX - 20:
            units = units[: max(TITLE_MAX - (len(units) - dot), 0)] + units[dot:]
        else:
            units = units[:TITLE_MAX]
    return "".join(
        "_" if 0xD800 <= u <= 0xDFFF or chr(u) in _TITLE_INVALID else chr(u) for u in units
    )
