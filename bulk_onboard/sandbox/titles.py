"""Titles as the folder DAO stores them (docspace-api.md 10.1, `Global.ReplaceInvalidCharsAndTruncate`,
called on every folder save: room create, folder create, rename): trimmed, cut to 170 UTF-16
units, and each of tab * + : " < > ? | \\ / and every lone surrogate replaced by `_`."""

from __future__ import annotations

import re

MAX_TITLE = 170
INVALID = re.compile(r'[\t*+:"<>?|\\/\ud800-\udfff]')


def utf16_len(text: str) -> int:
    """Length as .NET counts it ([StringLength]): an astral character counts 2."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def _truncate(text: str, limit: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def clean_title(title: str) -> str:
    return INVALID.sub("_", _truncate(title.strip(), MAX_TITLE))
