"""The aiohttp application: the /api/2.0 routes behind the pipeline, plus /sandbox/."""

from __future__ import annotations

from aiohttp import web

from bulk_onboard.sandbox import admin
from bulk_onboard.sandbox.pipeline import pipeline
from bulk_onboard.sandbox.portal import PORTAL, Portal
from bulk_onboard.sandbox.routes import auth, files, links, people, sharing


def build_app(portal: Portal) -> web.Application:
    app = web.Application(middlewares=[pipeline], client_max_size=4 * 1024 * 1024)
    app[PORTAL] = portal
    for module in (files, sharing, links, people, auth, admin):
        module.add_routes(app)
    return app
