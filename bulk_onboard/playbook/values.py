"""Playbook TOML: parsing, the key schema, merging over defaults, typed reads of values.

Each wrong key or value is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import tomllib
from typing import Any

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.records import Access, RoomType
from bulk_onboard.model.words import (
    NOT_ROOM_ROLES,
    access_list,
    parse_access,
    parse_culture,
    parse_room_type,
    room_type_choices,
)

SCHEMA: dict[str, frozenset[str]] = {
    "room": frozenset(
        {
            "title",
            "type",
            "tags",
            "folders",
            "rename",
            "skeleton",
            "allow_partial_view",
            "groups",
            "group_access",
            "template",
        }
    ),
    "copies": frozenset({"source", "folder", "title"}),
    "access": frozenset({"manager", "client", "users"}),
    "link": frozenset({"kind", "access", "title"}),
    "invitation": frozenset({"notify", "message", "culture"}),
    "crm": frozenset(
        {"webhook_url", "secret_env", "timeout_seconds", "max_attempts", "jsonl_path", "csv_path"}
    ),
    "guard": frozenset({"max_new_rooms", "max_new_people"}),
    "columns": frozenset({"clients", "users"}),
    "sheets": frozenset({"ignore"}),
    "limits": frozenset({"rate_window"}),
    "runs": frozenset({"keep"}),
    "notify": frozenset({"webhook_url", "secret_env", "on", "email_to", "email_from"}),
}

_ROOM_ROLES_LISTED = frozenset(a for a in Access if a not in NOT_ROOM_ROLES)


def parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name} is not valid TOML: {exc}; fix it and try again.") from None


def check_keys(data: dict[str, Any], name: str) -> None:
    for section, value in data.items():
        if section not in SCHEMA:
            raise ConfigError(
                f'{name}: unknown section or key "{section}"; a playbook has the sections '
                f"{', '.join(SCHEMA)}."
            )
        tables = value if section == "copies" and isinstance(value, list) else [value]
        for table in tables:
            if not isinstance(table, dict):
                kind = "a list of [[copies]] tables" if section == "copies" else "a [table]"
                raise ConfigError(f"{name}: {section} must be {kind}.")
            for key in table:
                if key not in SCHEMA[section]:
                    raise ConfigError(
                        f'{name}: unknown key "{section}.{key}"; [{section}] accepts '
                        f"{', '.join(sorted(SCHEMA[section]))}."
                    )


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Reader:
    """Reads keys of one playbook file; `name` is the file name used in messages."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _fail(self, where: str, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.name}: {where}.{key} {what}.")

    def text(self, table: dict[str, Any], where: str, key: str, required: bool = False) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise self._fail(where, key, f"must be text in quotes, not {value!r}")
        value = value.strip()
        if required and not value:
            raise self._fail(where, key, "must not be empty")
        return value

    def boolean(self, table: dict[str, Any], where: str, key: str) -> bool:
        value = table.get(key)
        if not isinstance(value, bool):
            raise self._fail(where, key, f"must be true or false, not {value!r}")
        return value

    def number(
        self,
        table: dict[str, Any],
        where: str,
        key: str,
        *,
        low: float,
        high: float,
        integer: bool = False,
    ) -> float:
        value = table.get(key)
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            what = "a whole number" if integer else "a number"
            raise self._fail(where, key, f"must be {what} from {low:g} to {high:g}, not {value!r}")
        return float(value)

    def strings(self, table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(where, key, 'must be a list of texts, like ["A", "B"]')
        return tuple(v.strip() for v in value)

    def titles(self, table: dict[str, Any], where: str, key: str, limit: int) -> tuple[str, ...]:
        titles = self.strings(table, where, key)
        seen: set[str] = set()
        for title in titles:
            if not title:
                raise self._fail(where, key, "has an empty name")
            if len(title) > limit:
                raise self._fail(where, key, f'has "{title}", longer than {limit} characters')
            if title.casefold() in seen:
                raise self._fail(where, key, f'names "{title}" twice')
            seen.add(title.casefold())
        return titles

    def tags(self, table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for t in self.strings(table, where, key) if t))

    def access(self, table: dict[str, Any], where: str, key: str) -> Access:
        raw = table.get(key)
        value = parse_access(str(raw)) if isinstance(raw, (str, int)) else None
        if value is None or value in NOT_ROOM_ROLES:
            raise self._fail(
                where,
                key,
                f"is {raw!r}, which is no room access; use {access_list(_ROOM_ROLES_LISTED)}",
            )
        return value

    def room_type(self, table: dict[str, Any], where: str, key: str) -> RoomType:
        raw = table.get(key)
        value = parse_room_type(str(raw)) if isinstance(raw, (str, int)) else None
        if value is None:
            raise self._fail(
                where, key, f"is {raw!r}, which is no room type; use {room_type_choices()}"
            )
        return value

    def culture(self, table: dict[str, Any], where: str, key: str) -> str | None:
        text = self.text(table, where, key)
        if not text:
            return None
        value = parse_culture(text)
        if value is None:
            raise self._fail(
                where, key, f'is "{text}", which is no language code; write one like en-US or de-DE'
            )
        return value
