"""The aiohttp application, and starting/stopping it on a loopback address."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from bulk_onboard.sandbox import admin, outage, webhooks
from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.middleware import pipeline
from bulk_onboard.sandbox.portal import PORTAL, Portal
from bulk_onboard.sandbox.routes import (
    auth,
    fileops,
    files,
    groups,
    links,
    people,
    people_state,
    personal,
    roomlist,
    rooms,
    sharing,
    templates,
)


def build_app(portal: Portal) -> web.Application:
    """The /api/2.0 routes behind the pipeline, plus the sandbox-only /sandbox/ routes."""
    app = web.Application(middlewares=[pipeline], client_max_size=4 * 1024 * 1024)
    app[PORTAL] = portal
    for module in (
        files,
        fileops,
        personal,
        roomlist,
        rooms,
        sharing,
        links,
        people,
        people_state,
        groups,
        auth,
        admin,
        templates,
    ):
        module.add_routes(app)
    outage.add_routes(app)
    receiver = webhooks.WebhookReceiver(
        secret=portal.config.webhook_secret, clock=portal.config.clock or time.time
    )
    webhooks.add_routes(app, receiver)
    return app


@dataclass(slots=True)
class Sandbox:
    """A running sandbox: where it listens and what a client needs to log in."""

    url: str
    config: SandboxConfig
    portal: Portal = field(repr=False)

    @property
    def token(self) -> str:
        return self.portal.seed.token

    @property
    def owner_email(self) -> str:
        return self.portal.seed.owner_email

    @property
    def owner_password(self) -> str:
        return self.portal.seed.owner_password

    @property
    def owner_id(self) -> str:
        return self.portal.seed.owner_id

    @property
    def template_ids(self) -> dict[str, int]:
        return dict(self.portal.seed.template_ids)

    @property
    def templates_room_id(self) -> int:
        return self.portal.seed.templates_room_id

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@asynccontextmanager
async def start_sandbox(config: SandboxConfig | None = None) -> AsyncIterator[Sandbox]:
    """Serve a sandbox portal until the block ends (port 0 = any free port)."""
    config = config or SandboxConfig()
    portal = Portal.create(config)
    app = build_app(portal)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    try:
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
        await site.start()
        host, port = runner.addresses[0][:2]
        app[outage.OUTAGE].bind(runner, site, config.host, port)
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{port}"
        portal.bind(url)
        yield Sandbox(url=url, config=config, portal=portal)
    finally:
        for task in list(portal.late_writes):
            task.cancel()
        await app[outage.OUTAGE].close()
        await runner.cleanup()
        portal.store.close()
