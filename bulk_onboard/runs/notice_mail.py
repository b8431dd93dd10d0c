"""The [notify] e-mail: the run's message as a plain-text mail, sent through SMTP (aiosmtplib,
the optional `mail` extra: `pip install 'bulk-onboard[mail]'`).

The server and its credentials come from the environment, never the playbook:

    BULK_ONBOARD_SMTP_HOST       the server (required when notify.email_to is set)
    BULK_ONBOARD_SMTP_PORT       default 587 (465 with tls)
    BULK_ONBOARD_SMTP_SECURITY   starttls (default: required), tls (implicit), or none (only
                                 to this computer: localhost, 127.0.0.1, ::1)
    BULK_ONBOARD_SMTP_USER, BULK_ONBOARD_SMTP_PASSWORD   to log in (both or neither)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from bulk_onboard.config import is_loopback
from bulk_onboard.errors import ConfigError
from bulk_onboard.logs import register_secret

HOST, PORT, SECURITY = (
    "BULK_ONBOARD_SMTP_HOST",
    "BULK_ONBOARD_SMTP_PORT",
    "BULK_ONBOARD_SMTP_SECURITY",
)
USER, PASSWORD = "BULK_ONBOARD_SMTP_USER", "BULK_ONBOARD_SMTP_PASSWORD"
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    port: int
    security: str  # starttls | tls | none
    user: str | None
    password: str | None


def smtp_from_env(env: Mapping[str, str]) -> Smtp:
    """The SMTP server the environment names; ConfigError with what to set."""
    host = env.get(HOST, "").strip()
    if not host:
        raise ConfigError(f"notify.email_to is set but {HOST} is not; export the SMTP server")
    security = env.get(SECURITY, "starttls").strip().lower() or "starttls"
    if security not in ("starttls", "tls", "none"):
        raise ConfigError(f"{SECURITY} must be starttls, tls or none, not {security!r}")
    if security == "none" and not is_loopback(host):
        raise ConfigError(
            f"{SECURITY}=none would send mail and password unencrypted to {host}; it is only "
            "accepted for localhost, 127.0.0.1 and ::1"
        )
    default_port = "465" if security == "tls" else "587"
    port = env.get(PORT, default_port).strip() or default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{PORT} must be a port number, not {port!r}")
    user, password = env.get(USER, "").strip() or None, env.get(PASSWORD, "") or None
    if (user is None) != (password is None):
        raise ConfigError(f"set both {USER} and {PASSWORD}, or neither")
    if importlib.util.find_spec("aiosmtplib") is None:
        raise ConfigError("notify.email_to needs aiosmtplib: pip install 'bulk-onboard[mail]'")
    return Smtp(host, int(port), security, user, password)


def mail_message(body: Mapping[str, Any], to: tuple[str, ...], sender: str) -> EmailMessage:
    """The run's notification as a plain-text e-mail (dated, with its own Message-ID)."""
    counts = ", ".join(f"{n} {s}" for s, n in (body.get("statuses") or {}).items() if n)
    mail = EmailMessage()
    mail["Subject"] = (
        f"bulk-onboard run {body['run_id']}: {body['verdict']} ({counts or 'no rows'})"
    )
    mail["From"], mail["To"] = sender, ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    lines = [
        f"run {body['run_id']} against {body.get('portal')}: {body['verdict']}, "
        f"exit code {body.get('exit_code')}",
        f"{body.get('rows')} rows: {counts or 'nothing to do'}",
    ]
    failed = body.get("failed_rows") or []
    if failed:
        lines += ["", f"rows that need attention ({len(failed)}):"]
        for row in failed:
            since = f" (failing since {row['failing_since']})" if "failing_since" in row else ""
            step = f" at {row['step']}" if row.get("step") else ""
            lines.append(f"  {row['key']}  {row['status']}{step}: {row.get('error') or ''}{since}")
    report = body.get("report") or {}
    lines += ["", f"report: {report.get('xlsx')}", f"        {report.get('html')}"]
    mail.set_content("\n".join(lines) + "\n")
    return mail


async def send_mail(
    smtp: Smtp, body: Mapping[str, Any], to: tuple[str, ...], sender: str
) -> dict[str, Any]:
    """Send the notification by mail; what became of it, for summary.json. Never raises."""
    import aiosmtplib  # the `mail` extra: checked by smtp_from_env before the run

    where = f"smtp://{smtp.host}:{smtp.port}"
    if smtp.password:
        register_secret(smtp.password)
    try:
        await aiosmtplib.send(
            mail_message(body, to, sender),
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.user,
            password=smtp.password,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
            timeout=TIMEOUT_S,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        return {
            "channel": "email",
            "sent": False,
            "to": where,
            "error": f"{type(exc).__name__}: {exc}",
        }
    return {"channel": "email", "sent": True, "to": where, "recipients": len(to)}
