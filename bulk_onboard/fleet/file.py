"""The fleet file (TOML): which portals, where their reports go, and how each is run.

    [fleet]
    reports = "reports"            # each portal's run folders under <reports>/<portal id>/
    state = ""                     # "" : the local state folder; redis://… (shared state)
    broker = ""                    # the workers' broker (redis://…)
    concurrency = 8                # portal runs at once in one process
    lease_seconds = 60
    visibility_timeout = 3600
    max_attempts = 3

    [defaults]                     # every portal's, unless it says otherwise
    playbook = "playbook.toml"
    token = "file:tokens/{id}.token"   # or "env:DOCSPACE_TOKEN_{id}": never the token itself
    input = ["exports/{id}/clients.csv"]

    [[portal]]
    id = "acme"                    # letters, digits, - and _: it names folders
    url = "https://acme.onlyoffice.com"
    rate = 20                      # any default, and the limits, overridden
    enabled = true

Paths are relative to the fleet file's folder. Every mistake is one ConfigError sentence
naming the file, the line or key, and what to do.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bulk_onboard.errors import ConfigError
from bulk_onboard.fleet.entries import portal_entry
from bulk_onboard.fleet.model import FLEET_KEYS, INTEGERS, LIMIT_KEYS, RUN_KEYS, Fleet, Portal
from bulk_onboard.fleet.values import FleetReader


def read_fleet(path: Path) -> Fleet:
    """The fleet file at `path`, checked (ConfigError: one sentence)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); give a fleet file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save the fleet file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML: {exc}; correct that line") from None
    return _fleet(path, document)


def _fleet(path: Path, document: dict[str, Any]) -> Fleet:
    reader = FleetReader(path)
    reader.known(document, "the top level", {"fleet", "defaults", "portal"})
    head = _table(path, document, "fleet")
    reader.known(head, "[fleet]", FLEET_KEYS)
    numbers = {
        key: reader.whole(head, "[fleet]", key, *INTEGERS[key])
        for key in head.keys() & INTEGERS.keys()
    }
    reports = reader.text(head, "[fleet]", "reports") or "reports"
    state = _state(reader, head)
    broker = reader.text(head, "[fleet]", "broker")
    defaults = _table(path, document, "defaults")
    reader.known(defaults, "[defaults]", RUN_KEYS | set(LIMIT_KEYS))
    entries = document.get("portal", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f'{path}: names no portal; add one [[portal]] table per portal (id = "…", url = "…")'
        )
    base = path.parent
    portals = tuple(
        portal_entry(reader, base, n, entry, defaults) for n, entry in enumerate(entries, 1)
    )
    _unique(path, portals)
    return Fleet(
        path=path,
        reports=base / reports,
        portals=portals,
        state=state,
        broker=broker,
        **numbers,
    )


def _table(path: Path, document: dict[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {name} must be a table ([{name}]); write it as [{name}]")
    return table


def _state(reader: FleetReader, head: dict[str, Any]) -> str:
    given = reader.text(head, "[fleet]", "state")
    if given and not given.startswith(("redis://", "rediss://")):
        raise ConfigError(
            f"{reader.name}: [fleet] state must be a redis://… address, or left out to keep the "
            "state in the local state folder"
        )
    return given


def _unique(path: Path, portals: tuple[Portal, ...]) -> None:
    ids: set[str] = set()
    urls: dict[str, str] = {}
    for portal in portals:
        if portal.id.lower() in ids:
            raise ConfigError(f"{path}: portal id {portal.id!r} is given twice; ids name folders")
        ids.add(portal.id.lower())
        if portal.url in urls:
            raise ConfigError(
                f"{path}: portals {urls[portal.url]!r} and {portal.id!r} have the same url "
                f"{portal.url}; one portal is one [[portal]]"
            )
        urls[portal.url] = portal.id
