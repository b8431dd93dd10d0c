"""A local ONLYOFFICE DocSpace portal emulator (aiohttp.web + SQLite) for tests, demos and
benchmarks. It imports nothing from the rest of bulk_onboard.

    async with start_sandbox(SandboxConfig()) as sb:
        sb.url, sb.token, sb.owner_email, sb.template_ids, sb.templates_room_id

The server is imported when first used, so the commands that never start a sandbox (`run`,
`retry`, `validate`, `plan`) do not load it (0.2 s of their start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bulk_onboard.sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from bulk_onboard.sandbox.server import Sandbox, start_sandbox

__all__ = ["Sandbox", "SandboxConfig", "start_sandbox"]


def __getattr__(name: str) -> Any:
    if name in ("Sandbox", "start_sandbox"):
        from bulk_onboard.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
