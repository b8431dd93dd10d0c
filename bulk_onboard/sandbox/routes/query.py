"""Query-string model binding: paging (count 1..100, startIndex) and enum parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.envelopes import ValidationFailed, range_message

INT_MAX = 2_147_483_647


def query_items(request: web.Request) -> dict[str, str]:
    """Query parameters by lower-cased name (model binding is case-insensitive)."""
    items: dict[str, str] = {}
    for key, value in request.query.items():
        items.setdefault(key.lower(), value)
    return items


def _not_valid(field: str, text: str) -> ValidationFailed:
    return ValidationFailed({field: [f"The value '{text}' is not valid for {field}."]})


def query_int(
    items: dict[str, str], name: str, field: str, default: int, low: int, high: int
) -> int:
    text = items.get(name.lower())
    if text is None or text == "":
        return default
    stripped = text.strip()
    if not stripped.lstrip("+-").isdigit():
        raise _not_valid(field, text)
    value = int(stripped)
    if not low <= value <= high:
        raise ValidationFailed({field: [range_message(field, low, high)]})
    return value


@dataclass(frozen=True, slots=True)
class Page:
    start: int
    count: int

    def take(self, items: list[Any]) -> list[Any]:
        return items[self.start : self.start + self.count]


def paging(items: dict[str, str], default_count: int = 100) -> Page:
    """`count` must be 1..100 ([Range] → 400), `startIndex` 0 or more."""
    count = query_int(items, "count", "Count", default_count, 1, 100)
    start = query_int(items, "startindex", "StartIndex", 0, 0, INT_MAX)
    return Page(start, count)


def query_enum(
    items: dict[str, str], name: str, field: str, enum_name: str, table: dict[str, int]
) -> int | None:
    text = items.get(name.lower())
    if text is None or text == "":
        return None
    try:
        return enums.parse_query_enum(enum_name, table, text)
    except enums.EnumParseError:
        raise _not_valid(field, text) from None


def query_enums(
    request: web.Request, name: str, field: str, enum_name: str, table: dict[str, int]
) -> list[int]:
    """A repeatable enum parameter (?type=2&type=5)."""
    values: list[int] = []
    for key, text in request.query.items():
        if key.lower() != name.lower() or text == "":
            continue
        try:
            values.append(enums.parse_query_enum(enum_name, table, text))
        except enums.EnumParseError:
            raise _not_valid(field, text) from None
    return values


def query_bool(items: dict[str, str], name: str, field: str) -> bool | None:
    text = items.get(name.lower())
    if text is None or text == "":
        return None
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    raise _not_valid(field, text)


def sort_descending(items: dict[str, str]) -> bool:
    order = items.get("sortorder", "").strip().lower()
    return order in ("descending", "1", "desc")
