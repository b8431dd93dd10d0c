"""Request bodies read the ASP.NET way: property names case-insensitive, unknown names
ignored, numbers accepted as JSON strings, wrong JSON types → a model-validation error."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox.envelopes import ValidationFailed, conversion_message

# --- request bodies ----------------------------------------------------------------------


class Body:
    """A JSON object read the ASP.NET way: names case-insensitive, unknown names ignored."""

    def __init__(self, data: dict[str, Any], path: str = "$") -> None:
        self._values: dict[str, Any] = {}
        for key, value in data.items():
            self._values.setdefault(key.lower(), value)
        self.path = path

    def has(self, name: str) -> bool:
        return self._values.get(name.lower()) is not None

    def raw(self, name: str) -> Any:
        return self._values.get(name.lower())

    def where(self, name: str) -> str:
        return f"{self.path}.{name}"

    def _fail(self, name: str, target: str) -> ValidationFailed:
        return ValidationFailed({self.where(name): [conversion_message(self.where(name), target)]})

    def string(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None or isinstance(value, str):
            return value
        raise self._fail(name, "System.String")

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        raise self._fail(name, "System.Boolean")

    def integer(self, name: str) -> int | None:
        """An int; numbers written as JSON strings are accepted (AllowReadingFromString)."""
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value.strip())
        raise self._fail(name, "System.Int32")

    def guid(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            parsed = parse_guid(value)
            if parsed is not None:
                return parsed
        raise self._fail(name, "System.Guid")

    def array(self, name: str) -> list[Any] | None:
        value = self.raw(name)
        if value is None or isinstance(value, list):
            return value
        raise self._fail(name, "System.Collections.Generic.IEnumerable")

    def objects(self, name: str) -> list[Body] | None:
        items = self.array(name)
        if items is None:
            return None
        bodies: list[Body] = []
        for index, item in enumerate(items):
            where = f"{self.where(name)}[{index}]"
            if not isinstance(item, dict):
                raise ValidationFailed({where: [conversion_message(where, "System.Object")]})
            bodies.append(Body(item, where))
        return bodies


EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def parse_guid(text: str) -> str | None:
    """A .NET Guid in 'D' (or 'N'/'B') form, lower-cased; None when it is not one."""
    raw = text.strip().strip("{}").replace("-", "")
    if len(raw) != 32 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        return None
    raw = raw.lower()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


async def read_body(request: web.Request) -> Body:
    """Read a required [FromBody] object or raise the validation error ASP.NET would."""
    raw = await request.read()
    if not raw.strip():
        raise ValidationFailed({"": ["A non-empty request body is required."]})
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed(
            {"$": ["The input is not valid JSON. Path: $ | LineNumber: 0 | BytePositionInLine: 0."]}
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed({"$": [conversion_message("$", "the request model")]})
    return Body(data)
