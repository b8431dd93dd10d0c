"""Telling someone how a run ended: the playbook's [notify] webhook, signed like the CRM's,
and its e-mail (notice_mail.py).

    POST <notify.webhook_url>
    X-BulkOnboard-Event: run_finished
    X-BulkOnboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>   (crm/signing.py)
    {"event": "run_finished", "run_id", "verdict", "exit_code", "portal", "rows", "statuses",
     "failed_rows": [{"key", "status", "step", "error", "failing_since"?}], "report": {...}}

`failing_since` is when a row that failed in this run first failed in an unbroken series of
runs against the portal (portal_memory.note_failing_rows). With on = "failures" nothing is sent
after a run whose verdict is "ok". A notification that fails never fails the run: it is logged
and kept in summary.json ("notify": one entry per channel).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.crm.webhook import WebhookSink, origin
from bulk_onboard.errors import ConfigError, CrmError
from bulk_onboard.logs import register_secret
from bulk_onboard.playbook.reader import Notify
from bulk_onboard.runs.notice_mail import send_mail, smtp_from_env
from bulk_onboard.runs.portal_memory import note_failing_rows
from bulk_onboard.runs.report import RowResult, Status, write_summary
from bulk_onboard.state.store import PortalStore

log = structlog.get_logger("bulk_onboard")

FAILED = (Status.FAILED, Status.INVALID)
UNFINISHED = (Status.INTERRUPTED, Status.DEFERRED)
MAX_ROWS = 200  # failed rows in one message; the report has them all
TIMEOUT_S, ATTEMPTS = 10.0, 3


def remember_failures(
    store: PortalStore, document: Mapping[str, Any], problems: Sequence[RowResult]
) -> dict[str, str]:
    """Note this run's failed rows in the portal's memory; since when each that failed before
    has been failing."""
    failed = [r.row_key for r in problems if r.status in FAILED]
    unfinished = tuple(r.row_key for r in problems if r.status in UNFINISHED)
    return note_failing_rows(store, failed, str(document["started"]), unfinished=unfinished)


def message(
    document: Mapping[str, Any], problems: Sequence[RowResult], since: Mapping[str, str]
) -> dict[str, Any]:
    """The notification of a finished run, from its summary.json `document`."""
    rows = []
    for row in [r for r in problems if r.status in FAILED][:MAX_ROWS]:
        item: dict[str, Any] = {
            "key": row.row_key,
            "status": row.status.value,
            "step": row.failed_step,
            "error": row.error,
        }
        if row.row_key in since:
            item["failing_since"] = since[row.row_key]
        rows.append(item)
    return {
        "event": "run_finished",
        "idempotency_key": f"run:{document['run_id']}:finished",
        "run_id": document["run_id"],
        "verdict": document["verdict"],
        "exit_code": document.get("exit_code"),
        "portal": document.get("portal"),
        "rows": document.get("rows"),
        "statuses": document.get("statuses"),
        "failed_rows": rows,
        # where the report is, whatever folder the reader is in
        "report": {k: str(Path(v).absolute()) for k, v in (document.get("report") or {}).items()},
    }


def wanted(notify: Notify, verdict: str) -> bool:
    return notify.configured and (notify.on == "always" or verdict != "ok")


async def send(notify: Notify, body: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """POST the message, signed; what became of it, for summary.json. Never raises."""
    assert notify.webhook_url is not None and notify.secret_env is not None
    where = origin(notify.webhook_url)
    secret = env.get(notify.secret_env, "")
    if not secret:
        return {
            "channel": "webhook",
            "sent": False,
            "to": where,
            "error": f"${notify.secret_env} is not set",
        }
    register_secret(secret)
    sink = WebhookSink(
        notify.webhook_url,
        secret.encode("utf-8"),
        timeout=TIMEOUT_S,
        max_attempts=ATTEMPTS,
        random=random.random,
        clock=time.time,
    )
    await sink.open()
    try:
        receipt = await sink.send(body)
    except CrmError as exc:
        return {"channel": "webhook", "sent": False, "to": where, "error": str(exc)}
    finally:
        await sink.close()
    return {
        "channel": "webhook",
        "sent": True,
        "to": where,
        "status": receipt.status,
        "attempts": receipt.attempts,
    }


async def _mail(notify: Notify, body: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    try:
        smtp = smtp_from_env(env)
    except ConfigError as exc:
        return {"channel": "email", "sent": False, "to": "smtp", "error": str(exc)}
    return await send_mail(smtp, body, notify.email_to, notify.email_from)


async def tell(
    notify: Notify, body: Mapping[str, Any], env: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The message to every channel [notify] names, at once; what became of each."""
    jobs = []
    if notify.webhook_url:
        jobs.append(send(notify, body, env))
    if notify.email_to:
        jobs.append(_mail(notify, body, env))
    return list(await asyncio.gather(*jobs))


def check_notify(notify: Notify, env: Mapping[str, str], source: str = "the playbook") -> None:
    """A [notify] webhook needs its signing secret in `env`, e-mail its SMTP server: ConfigError
    (naming the file and the variable, never a value) when either is missing. Checked before
    anything is sent, as the CRM webhook's."""
    name = notify.secret_env
    if notify.webhook_url and name and not env.get(name):
        raise ConfigError(
            f"{source}: notify.webhook_url is set but the environment variable {name} "
            "(notify.secret_env) is empty or unset; export the signing secret and try again"
        )
    if notify.email_to:
        try:
            smtp_from_env(env)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def _remembered(
    summary_path: Path, problems: Sequence[RowResult], store: PortalStore
) -> tuple[dict[str, Any], dict[str, str]]:
    """The run's summary.json, and since when each of its failed rows has been failing (its
    failed rows remembered for the portal)."""
    document: dict[str, Any] = json.loads(summary_path.read_text(encoding="utf-8"))
    try:
        return document, remember_failures(store, document, problems)
    except OSError as exc:  # a state folder that cannot be written: told, the run stands
        log.warning("notify_failed", run_id=document["run_id"], error=str(exc))
        return document, {}


async def notify_after_run(
    notify: Notify,
    summary_path: Path,
    problems: Sequence[RowResult],
    store: PortalStore,
    env: Mapping[str, str],
) -> list[dict[str, Any]]:
    """After a run (its summary.json written, exit code included): remember its failed rows
    for the portal, tell [notify] if wanted, and note each outcome in summary.json ("notify")
    and the log. The outcomes; none when nothing was sent. Run by runs/after_run.py, for
    `bulk-onboard run` as for each portal of a fleet."""
    document, since = _remembered(summary_path, problems, store)
    if not wanted(notify, str(document["verdict"])):
        return []
    outcomes = await tell(notify, message(document, problems, since), env)
    for outcome in outcomes:
        fields = {k: v for k, v in outcome.items() if k in ("channel", "to", "error")}
        if outcome["sent"]:
            log.info("notify_sent", run_id=document["run_id"], **fields)
        else:
            log.warning("notify_failed", run_id=document["run_id"], **fields)
    write_summary(summary_path, {**document, "notify": outcomes})
    return outcomes
