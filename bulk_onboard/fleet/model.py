"""What a fleet file says, checked: the fleet, and each portal with its defaults applied."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bulk_onboard.errors import ConfigError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
FLEET_KEYS = {
    "reports",
    "state",
    "broker",
    "concurrency",
    "lease_seconds",
    "visibility_timeout",
    "max_attempts",
}
# what [defaults] may say, and every portal may override
RUN_KEYS = {"playbook", "token", "input", "kind"}
LIMIT_KEYS = {"rate": float, "max_writes": int, "outage_wait": float, "request_timeout": float}
PORTAL_KEYS = {"id", "url", "enabled", *RUN_KEYS, *LIMIT_KEYS}
INTEGERS = {
    "concurrency": (1, 200),
    "lease_seconds": (5, 86_400),
    "visibility_timeout": (5, 7 * 86_400),
    "max_attempts": (1, 100),
}


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where a portal's token is read: a file, or an environment variable (never the value)."""

    kind: str  # "file" or "env"
    where: str  # the path (resolved) or the variable's name

    def __str__(self) -> str:
        return f"{self.kind}:{self.where}"


@dataclass(frozen=True, slots=True)
class Portal:
    id: str
    url: str
    token: TokenSource
    inputs: tuple[Path, ...]
    playbook: Path | None = None
    kind: str | None = None
    limits: dict[str, float | int] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Fleet:
    path: Path
    reports: Path
    portals: tuple[Portal, ...]
    state: str = ""
    broker: str = ""
    concurrency: int = 8
    lease_seconds: int = 60
    visibility_timeout: int = 3600
    max_attempts: int = 3

    def chosen(self, only: list[str] | None = None) -> tuple[Portal, ...]:
        """The enabled portals, or those named in `only` (ConfigError for an unknown id)."""
        if not only:
            return tuple(p for p in self.portals if p.enabled)
        known = {p.id: p for p in self.portals}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise ConfigError(
                f"{self.path}: no portal {', '.join(unknown)} in the fleet file; "
                f"its portals are {', '.join(known)}"
            )
        return tuple(known[name] for name in only)
