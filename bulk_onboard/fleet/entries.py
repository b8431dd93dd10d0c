"""One [[portal]] of the fleet file: its id and address, the defaults it overrides, and where
its token is read (a file or an environment variable, never the token itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulk_onboard.config import normalize_portal_url
from bulk_onboard.errors import ConfigError
from bulk_onboard.fleet.model import ID_PATTERN, LIMIT_KEYS, PORTAL_KEYS, Portal, TokenSource
from bulk_onboard.fleet.values import FleetReader


def portal_entry(
    reader: FleetReader, base: Path, number: int, entry: Any, defaults: dict[str, Any]
) -> Portal:
    """The `number`th [[portal]] with the [defaults] applied; paths relative to `base`."""
    path = Path(reader.name)
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: portal {number} must be a [[portal]] table")
    portal_id = _portal_id(path, number, entry.get("id"))
    where = f"portal {portal_id!r}"
    reader.known(entry, where, PORTAL_KEYS)
    merged = {**defaults, **entry}
    url = reader.text(entry, where, "url")
    if not url:
        raise ConfigError(f'{path}: {where} has no url; add url = "https://…" to it')
    try:
        url = normalize_portal_url(url)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {where} url: {exc}") from None
    playbook = reader.text(merged, where, "playbook")
    kind = reader.text(merged, where, "kind")
    enabled = reader.boolean(entry, where, "enabled") if "enabled" in entry else True
    return Portal(
        id=portal_id,
        url=url,
        token=_token(path, base, where, merged.get("token"), portal_id),
        inputs=_inputs(path, base, where, merged.get("input"), portal_id),
        playbook=base / playbook.replace("{id}", portal_id) if playbook else None,
        kind=kind or None,
        limits=_limits(path, where, merged),
        enabled=enabled,
    )


def _portal_id(path: Path, number: int, value: Any) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ConfigError(
            f"{path}: portal {number} needs an id of letters, digits, '-' and '_' (at most "
            f'63, first a letter or digit), e.g. id = "acme": it names the portal\'s folders'
        )
    return value


def _token(path: Path, base: Path, where: str, value: Any, portal_id: str) -> TokenSource:
    """`file:PATH` or `env:NAME`; anything else is refused without being repeated."""
    if value is None:
        raise ConfigError(
            f'{path}: {where} has no token; add token = "file:tokens/{{id}}.token" (or '
            '"env:NAME") to [defaults] or to the portal'
        )
    if not isinstance(value, str) or not value.startswith(("file:", "env:")):
        raise ConfigError(
            f"{path}: {where} token must say where the token is read, file:PATH or env:NAME, "
            "never the token itself; put the token in a file readable only by you and write "
            'token = "file:PATH" (if a real token was written here, revoke it)'
        )
    kind, _, where_read = value.partition(":")
    where_read = where_read.replace("{id}", portal_id)
    if not where_read:
        raise ConfigError(f"{path}: {where} token {kind}: names no {kind}; give one after the ':'")
    if kind == "file":
        return TokenSource("file", str(base / where_read))
    return TokenSource("env", where_read)


def _inputs(path: Path, base: Path, where: str, value: Any, portal_id: str) -> tuple[Path, ...]:
    given = [value] if isinstance(value, str) else value
    if not given or not isinstance(given, list) or not all(isinstance(v, str) for v in given):
        raise ConfigError(
            f'{path}: {where} has no input; add input = ["exports/{{id}}/clients.csv"] (the '
            "spreadsheets of each portal, {id} its id) to [defaults] or to the portal"
        )
    return tuple(base / item.replace("{id}", portal_id) for item in given)


def _limits(path: Path, where: str, merged: dict[str, Any]) -> dict[str, float | int]:
    limits: dict[str, float | int] = {}
    for key, kind in LIMIT_KEYS.items():
        value = merged.get(key)
        if value is None:
            continue
        lowest = 0 if key == "outage_wait" else 1e-9  # outage_wait = 0: fail at once
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < lowest:
            raise ConfigError(f"{path}: {where} {key} must be a number above 0")
        if kind is int and not isinstance(value, int):
            raise ConfigError(f"{path}: {where} {key} must be a whole number")
        limits[key] = kind(value)
    return limits
