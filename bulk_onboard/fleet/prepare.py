"""What one portal's run needs, made from the fleet file: its settings (the token read from
where the fleet file says) and its checked input. A portal that cannot be prepared says why
in one sentence and is left out; the others still run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bulk_onboard.config import (
    STATE_DIR_ENV,
    TOKEN_ENV,
    Settings,
    build_settings,
    default_state_dir,
)
from bulk_onboard.crm.deliver import check_crm
from bulk_onboard.errors import ConfigError, InputError
from bulk_onboard.fleet.model import Fleet, Portal
from bulk_onboard.intake import Intake, load_intake
from bulk_onboard.logs import redact, register_secret
from bulk_onboard.model.records import RowKind
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.notice import check_notify
from bulk_onboard.state.store import PortalStore, store_for


@dataclass(frozen=True, slots=True)
class Prepared:
    portal: Portal
    settings: Settings
    intake: Intake


class NotPrepared(Exception):
    """A portal that cannot be run as the fleet file says: the sentence says why."""


def portal_dir(fleet: Fleet, portal: Portal) -> Path:
    """Where the portal's run folders go: <reports>/<portal id>/."""
    return fleet.reports / portal.id


def portal_settings(
    fleet: Fleet, portal: Portal, env: Mapping[str, str], log_format: str | None = None
) -> Settings:
    """The portal's settings, its token read (NotPrepared when it cannot be)."""
    given = {k: v for k, v in env.items() if k == STATE_DIR_ENV}
    token_file: str | None = None
    if portal.token.kind == "env":
        value = env.get(portal.token.where, "")
        if not value.strip():
            raise NotPrepared(
                f"{fleet.path}: portal {portal.id!r} reads its token from the environment "
                f"variable {portal.token.where}, which is not set; set it, or give "
                'token = "file:PATH"'
            )
        given[TOKEN_ENV] = value
    else:
        token_file = portal.token.where
    limits = portal.limits
    try:
        settings = build_settings(
            given,
            portal=portal.url,
            token_file=token_file,
            requests_per_second=limits.get("rate"),
            max_write_inflight=_whole(limits.get("max_writes")),
            outage_wait=limits.get("outage_wait"),
            request_timeout=limits.get("request_timeout"),
            report_dir=portal_dir(fleet, portal),
            log_format=log_format,
        )
    except ConfigError as exc:
        raise NotPrepared(f"{fleet.path}: portal {portal.id!r}: {redact(str(exc))}") from None
    register_secret(settings.token.reveal())
    return replace(settings, state_store=fleet.state)


def fleet_portal_store(fleet: Fleet, portal: Portal, env: Mapping[str, str]) -> PortalStore:
    """The portal's store as its runs use it (its state folder, and Redis when the fleet
    shares its state), without reading its token."""
    return store_for(default_state_dir(env), portal.url, fleet.state)


def _whole(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def portal_intake(fleet: Fleet, portal: Portal, env: Mapping[str, str]) -> Intake:
    """The portal's input read and checked with its playbook, its [crm] and [notify] secrets
    and SMTP server in `env` (NotPrepared when it cannot be)."""
    try:
        kind = RowKind.from_text(portal.kind) if portal.kind else None
        intake = load_intake(list(portal.inputs), load_playbook(portal.playbook), kind)
        check_crm(intake.playbook.crm, env, intake.playbook.source)
        check_notify(intake.playbook.notify, env, intake.playbook.source)
    except (InputError, ConfigError) as exc:
        raise NotPrepared(f"portal {portal.id!r}: {redact(str(exc))}") from None
    return intake


def prepare(
    fleet: Fleet, portal: Portal, env: Mapping[str, str], log_format: str | None = None
) -> Prepared:
    settings = portal_settings(fleet, portal, env, log_format)
    return Prepared(portal, settings, portal_intake(fleet, portal, env))
