"""A local ONLYOFFICE DocSpace portal emulator (aiohttp.web + SQLite) for tests, demos and
benchmarks. It imports nothing from the rest of bulk_onboard.

    async with start_sandbox(SandboxConfig()) as sb:
        sb.url, sb.token, sb.owner_email, sb.template_ids, sb.templates_room_id
"""

from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.server import Sandbox, start_sandbox

__all__ = ["Sandbox", "SandboxConfig", "start_sandbox"]
