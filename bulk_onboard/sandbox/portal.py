"""The state one running sandbox shares between its handlers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.dto import Dtos
from bulk_onboard.sandbox.faults import FaultInjector
from bulk_onboard.sandbox.limits import LimitSettings, RateLimiter
from bulk_onboard.sandbox.operations import Operations
from bulk_onboard.sandbox.store import Person, Seed, Store
from bulk_onboard.sandbox.templates import TemplateJobs


@dataclass(slots=True)
class RequestStats:
    """What benchmarks read from GET /sandbox/requests."""

    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    unauthenticated: int = 0
    dropped: int = 0
    applied_late: int = 0  # writes applied after their connection was given up (faults.LATE)

    def reset(self) -> None:
        self.total = self.unauthenticated = self.dropped = self.applied_late = 0
        self.by_route.clear()
        self.by_status.clear()


@dataclass(slots=True)
class Portal:
    config: SandboxConfig
    store: Store
    seed: Seed
    limiter: RateLimiter
    faults: FaultInjector
    stats: RequestStats = field(default_factory=RequestStats)
    operations: Operations = field(default_factory=lambda: Operations(0.3))
    templates: TemplateJobs = field(default_factory=lambda: TemplateJobs(0.5))
    url: str = ""
    _dtos: Dtos | None = None
    # writes still to be applied late (faults.LATE); cancelled when the sandbox stops
    late_writes: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def create(cls, config: SandboxConfig) -> Portal:
        store = Store.open(config.db)
        seed = store.ensure_seeded(
            token=config.token,
            owner_email=config.owner_email,
            owner_password=config.owner_password,
            now=time.time(),
        )
        limiter = RateLimiter(_limit_settings(config), config.clock or time.time)
        return cls(
            config=config,
            store=store,
            seed=seed,
            limiter=limiter,
            faults=_injector(config),
            operations=Operations(config.fileop_ms / 1000),
            templates=TemplateJobs(config.template_ms / 1000, config.docspace_version),
        )

    def restore_runtime_settings(self) -> None:
        """Limits, fault rates, fault script and counters back to the configuration."""
        config = self.config
        self.limiter.settings = _limit_settings(config)
        self.limiter.reset()
        self.limiter.peak_inflight = dict.fromkeys(self.limiter.peak_inflight, 0)
        self.faults = _injector(config)
        self.stats.reset()
        self.operations.clear()
        self.templates.clear()

    def bind(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._dtos = Dtos(self.store, self.url, self.config.public_url or self.url)

    @property
    def dtos(self) -> Dtos:
        if self._dtos is None:
            raise RuntimeError("the portal is not bound to an address yet")
        return self._dtos

    @staticmethod
    def now() -> float:
        """Wall-clock time for created/updated stamps and mail times."""
        return time.time()

    def owner(self) -> Person:
        return self.store.people.owner()


def _limit_settings(config: SandboxConfig) -> LimitSettings:
    return LimitSettings(
        enabled=config.rate_limit,
        window_limit=config.window_limit,
        window_seconds=config.window_seconds,
        max_get_inflight=config.max_get_inflight,
        max_write_inflight=config.max_write_inflight,
        daily_write_limit=config.daily_write_limit,
        daily_window_seconds=config.daily_window_seconds,
    )


def _injector(config: SandboxConfig) -> FaultInjector:
    return FaultInjector(
        seed=config.seed,
        latency_ms=config.latency_ms,
        jitter_ms=config.jitter_ms,
        p_5xx=config.fault_5xx,
        p_drop=config.fault_drop,
        p_ambiguous=config.fault_ambiguous,
    )


PORTAL = web.AppKey("portal", Portal)
CALLER = web.RequestKey("caller", Person)


def portal_of(request: web.Request) -> Portal:
    return request.app[PORTAL]


def caller_or_none(request: web.Request) -> Person | None:
    """The caller of an [AllowAnonymous] action: None when nobody logged in."""
    return request.get(CALLER)


def caller_of(request: web.Request) -> Person:
    try:
        return request[CALLER]
    except KeyError:
        raise RuntimeError("handler reached without an authenticated caller") from None
