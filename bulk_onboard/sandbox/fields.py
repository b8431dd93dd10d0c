"""`fields=` response trimming, as the server's DynamicIgnoreConverter does it
(docspace-api.md 10.3).

The rules come from the query string only: the values of `fields[]`, else of `fields`; a
single value is split on `,` with nothing trimmed; repeated values are used as they are.
Names compare case-sensitively. Applied to `response`, or to each item of a list: `a` keeps
property `a` whole, `a.b` keeps `a` with only `b` inside, deeper paths likewise, and inside
an array-valued property the rest of the rule applies to each element. Unmatched
properties are dropped. Dictionary-valued properties are written whole, and properties
renamed with [JsonPropertyName] lose that name.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

DICTIONARY_PROPERTIES = frozenset({"security", "shareSettings", "availableShareRights"})
# [JsonPropertyName] names → the camelCased C# property name the converter writes.
RENAMED = {"Operation": "operationType"}


def requested_fields(request: web.Request) -> list[str] | None:
    """The trimming rules of this request, or None when it asks for none."""
    values = request.query.getall("fields[]", [])
    if not values:
        values = request.query.getall("fields", [])
    if not values:
        return None
    return values[0].split(",") if len(values) == 1 else list(values)


def trim(value: Any, rules: list[str]) -> Any:
    split = _split(rules)  # once for every item of a list
    if isinstance(value, list):
        return [_trim_object(item, split) if isinstance(item, dict) else item for item in value]
    if isinstance(value, dict):
        return _trim_object(value, split)
    return value


def _split(rules: list[str]) -> tuple[set[str], dict[str, list[str]]]:
    """The properties kept whole, and the rules for the inside of the others."""
    whole: set[str] = set()
    inner: dict[str, list[str]] = {}
    for rule in rules:
        head, dot, rest = rule.partition(".")
        if not dot or head in DICTIONARY_PROPERTIES:
            whole.add(head)
        else:
            inner.setdefault(head, []).append(rest)
    return whole, inner


def _trim_object(
    obj: dict[str, Any], split: tuple[set[str], dict[str, list[str]]]
) -> dict[str, Any]:
    whole, inner = split
    kept: dict[str, Any] = {}
    for key, item in obj.items():
        key = RENAMED.get(key, key)
        if key in whole:
            kept[key] = item
        elif key in inner:
            kept[key] = trim(item, inner[key])
    return kept
