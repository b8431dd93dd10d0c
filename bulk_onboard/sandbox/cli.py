"""`bulk-onboard sandbox`: run the local DocSpace portal emulator until Ctrl-C or --stop-after."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

import click

from bulk_onboard.sandbox.config import SandboxConfig, is_loopback_host

if TYPE_CHECKING:
    from bulk_onboard.sandbox.server import Sandbox


def _loopback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not is_loopback_host(value):
        raise click.BadParameter(
            f"{value!r} is not a loopback address; the sandbox listens on 127.0.0.1, ::1 or "
            "localhost only"
        )
    return value


def _probability(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise click.BadParameter("a probability between 0 and 1")
    return value


def announce(sandbox: Sandbox, stop_after: float) -> None:
    seed = sandbox.portal.seed
    limits = sandbox.portal.limiter.settings
    lines = [
        f"DocSpace sandbox listening on {sandbox.url}",
        f"  API token:       {sandbox.token}",
        f"  Owner e-mail:    {sandbox.owner_email}",
        f"  Owner password:  {seed.owner_password}",
        f"  Templates room:  {sandbox.templates_room_id}",
        "  Template files:  "
        + ", ".join(f"{name}={file_id}" for name, file_id in sandbox.template_ids.items()),
        f"  Database:        {sandbox.config.db}",
        "  Rate limit:      "
        + (
            f"on ({limits.window_limit}/{limits.window_seconds:g}s, {limits.max_get_inflight} GET "
            f"+ {limits.max_write_inflight} writes in flight, {limits.daily_write_limit} "
            "writes/day)"
            if limits.enabled
            else "off"
        ),
        f"  Sandbox API:     {sandbox.url}/sandbox/state | /outbox | /audit | /requests",
        f"Stops by itself after {stop_after:g} s; Ctrl-C stops it sooner.",
    ]
    for line in lines:
        click.echo(line)


async def _serve(config: SandboxConfig, stop_after: float) -> None:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM stops it as cleanly as Ctrl-C does
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    from bulk_onboard.sandbox.server import start_sandbox

    async with start_sandbox(config) as sandbox:
        announce(sandbox, stop_after)
        await asyncio.sleep(stop_after)


@click.command("sandbox")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_loopback,
    help="Loopback address to listen on.",
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port; 0 picks a free one.",
)
@click.option(
    "--db",
    default=":memory:",
    show_default=True,
    help="SQLite file that keeps the portal across restarts.",
)
@click.option("--token", default=None, help="API key to accept (sk-<hex>); default: generated.")
@click.option("--public-url", default=None, help="Base URL written into share links.")
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Time the portal takes to answer each request, in milliseconds.",
)
@click.option(
    "--jitter-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Up to this many milliseconds more, drawn at random per request (see --seed).",
)
@click.option(
    "--rate-limit",
    type=click.Choice(["on", "off"]),
    default="on",
    show_default=True,
    help="Enforce the real portal's limits below (off: none of them, for fast tests).",
)
@click.option(
    "--window-limit",
    default=1500,
    show_default=True,
    type=click.IntRange(1),
    help="Requests allowed per 60 s window and user; more are answered 429 with "
    "X-RateLimit-Limit and X-RateLimit-Remaining: 0 (no Retry-After, as the real server).",
)
@click.option(
    "--window-seconds",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.001),
    hidden=True,
    help="For tests only: another length of the rate-limit window, in seconds (the real "
    "server's is a constant 60 s; only its limit is configurable).",
)
@click.option(
    "--max-get-inflight",
    default=50,
    show_default=True,
    type=click.IntRange(1),
    help="GET requests handled at once; one more is answered 429.",
)
@click.option(
    "--max-write-inflight",
    default=15,
    show_default=True,
    type=click.IntRange(1),
    help="POST/PUT/DELETE requests handled at once; one more is answered 429.",
)
@click.option(
    "--daily-write-limit",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Writes allowed per day and token; then 429 with a Retry-After until the next day.",
)
@click.option(
    "--fault-5xx",
    default=0.0,
    show_default=True,
    callback=_probability,
    help="Probability (0 to 1) that a request is answered 500/502/503 without effect.",
)
@click.option(
    "--fault-drop",
    default=0.0,
    show_default=True,
    callback=_probability,
    help="Probability that the connection is closed without an answer and without effect.",
)
@click.option(
    "--fault-ambiguous",
    default=0.0,
    show_default=True,
    callback=_probability,
    help="Probability that a write is applied, then answered 502 or with a dropped connection.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the fault/latency dice.")
@click.option(
    "--fileop-ms",
    default=300.0,
    show_default=True,
    type=click.FloatRange(0),
    help="How long an archive/restore operation runs before it finishes.",
)
@click.option(
    "--template-ms",
    default=500.0,
    show_default=True,
    type=click.FloatRange(0),
    help="How long a room-from-template job runs before its room is made.",
)
@click.option(
    "--docspace-version",
    default="3.8.0",
    show_default=True,
    help="The version GET settings/version/build reports (below 3.1: no room templates).",
)
@click.option(
    "--stop-after",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds until the server stops by itself.",
)
def sandbox_command(
    host: str,
    port: int,
    db: str,
    token: str | None,
    public_url: str | None,
    latency_ms: float,
    jitter_ms: float,
    rate_limit: str,
    window_limit: int,
    window_seconds: float,
    max_get_inflight: int,
    max_write_inflight: int,
    daily_write_limit: int,
    fault_5xx: float,
    fault_drop: float,
    fault_ambiguous: float,
    seed: int,
    fileop_ms: float,
    template_ms: float,
    docspace_version: str,
    stop_after: float,
) -> None:
    """Run a local DocSpace portal emulator (REST API v2.0 subset) on a loopback address.

    Its webhook receiver stands in for a CRM: set the secret it checks signatures with by
    POST /sandbox/webhook/config {"secret": "..."} (also failNext, status, retryAfter, outage,
    delayMs to make it fail), point a playbook's webhook_url at <url>/sandbox/webhook, and
    read what it received with GET /sandbox/webhook.
    """
    try:
        config = SandboxConfig(
            db=db,
            token=token,
            host=host,
            port=port,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            rate_limit=rate_limit == "on",
            window_limit=window_limit,
            window_seconds=window_seconds,
            max_get_inflight=max_get_inflight,
            max_write_inflight=max_write_inflight,
            daily_write_limit=daily_write_limit,
            fault_5xx=fault_5xx,
            fault_drop=fault_drop,
            fault_ambiguous=fault_ambiguous,
            seed=seed,
            public_url=public_url,
            fileop_ms=fileop_ms,
            template_ms=template_ms,
            docspace_version=docspace_version,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        asyncio.run(_serve(config, stop_after))
    except (KeyboardInterrupt, asyncio.CancelledError):
        click.echo("Sandbox stopped.")
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc}") from None
    else:
        click.echo("Sandbox stopped (--stop-after reached).")
