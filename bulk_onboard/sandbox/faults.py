"""Seeded fault injection: latency, 5xx without effect, dropped connections without effect,
and ambiguous failures whose write WAS committed.

Random faults draw from random.Random(seed) with a fixed number of draws per request, so a
given seed and request sequence always injects the same faults. Scripted faults are exact:
each rule matches a method and a path, fires `times` times (after skipping `skip` matches)
and is then spent. Rule paths: `path` is a prefix of the request path; `regex` is a Python
regular expression that must match the whole path. Scripted rules are checked before the
random rates.

Fault kinds: "5xx" (status 500/502/503; no effect), "drop" (connection closed, no answer, no
effect), "ambiguous_502" / "ambiguous_drop" (the handler runs and commits, then the answer is
a 502 or a dropped connection), "429" (empty 429, Retry-After when `retry_after` is given; no
effect), "delay" (extra `ms` milliseconds before handling).

Writes that land late, as on the real server, where a request the client gave up on (its timeout
ran out, or the connection broke) still runs to its end: ASP.NET does not cancel an action when
the client goes away unless the action watches `RequestAborted`, and the DocSpace create actions
do not. "late_drop" closes the connection at once and applies the write `ms` milliseconds later;
"late_timeout" answers nothing, applies the write after `ms` milliseconds (a client whose timeout
is shorter has given up by then) and then closes the connection.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

FIVE_XX, DROP, AMBIGUOUS_502, AMBIGUOUS_DROP = "5xx", "drop", "ambiguous_502", "ambiguous_drop"
TOO_MANY, DELAY = "429", "delay"
LATE_DROP, LATE_TIMEOUT = "late_drop", "late_timeout"
KINDS = (FIVE_XX, DROP, AMBIGUOUS_502, AMBIGUOUS_DROP, TOO_MANY, DELAY, LATE_DROP, LATE_TIMEOUT)
BEFORE = frozenset({FIVE_XX, DROP, TOO_MANY})  # answered instead of the handler
AFTER = frozenset({AMBIGUOUS_502, AMBIGUOUS_DROP})  # answered after the handler committed
LATE = frozenset({LATE_DROP, LATE_TIMEOUT})  # the handler runs `ms` later, the client gone


class FaultSpecError(ValueError):
    """A /sandbox/faults body the injector cannot use."""


@dataclass(slots=True)
class FaultRule:
    fault: str
    method: str | None = None
    path: str | None = None
    regex: re.Pattern[str] | None = None
    times: int = 1
    skip: int = 0
    status: int | None = None
    retry_after: int | None = None
    ms: float = 0.0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        return self.regex is None or self.regex.fullmatch(path) is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "method": self.method,
            "path": self.path,
            "regex": self.regex.pattern if self.regex else None,
            "times": self.times,
            "skip": self.skip,
            "status": self.status,
            "retryAfter": self.retry_after,
            "ms": self.ms,
            "fired": self.fired,
        }

    @classmethod
    def from_json(cls, spec: Any) -> FaultRule:
        if not isinstance(spec, dict):
            raise FaultSpecError("each script entry must be an object")
        fault = str(spec.get("fault", ""))
        if fault not in KINDS:
            raise FaultSpecError(f"unknown fault {fault!r}; expected one of {', '.join(KINDS)}")
        regex = spec.get("regex")
        try:
            compiled = re.compile(regex) if regex else None
        except re.error as exc:
            raise FaultSpecError(f"bad regex {regex!r}: {exc}") from None
        status = spec.get("status")
        if status is not None and (not isinstance(status, int) or not 500 <= status <= 599):
            raise FaultSpecError("status must be an integer 500..599")
        retry = spec.get("retry_after", spec.get("retryAfter"))
        method = spec.get("method")
        try:
            return cls(
                fault=fault,
                method=str(method).upper() if method else None,
                path=str(spec["path"]) if spec.get("path") else None,
                regex=compiled,
                times=int(spec.get("times", 1)),
                skip=int(spec.get("skip", 0)),
                status=status,
                retry_after=int(retry) if retry is not None else None,
                ms=float(spec.get("ms", 0.0)),
            )
        except (TypeError, ValueError) as exc:
            raise FaultSpecError(f"bad script entry {spec!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    status: int = 502
    retry_after: int | None = None
    ms: float = 0.0
    scripted: bool = False


class FaultInjector:
    def __init__(
        self,
        *,
        seed: int,
        latency_ms: float,
        jitter_ms: float,
        p_5xx: float,
        p_drop: float,
        p_ambiguous: float,
    ) -> None:
        self.rng = random.Random(seed)
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.p_5xx = p_5xx
        self.p_drop = p_drop
        self.p_ambiguous = p_ambiguous
        self.script: list[FaultRule] = []
        self.injected: dict[str, int] = dict.fromkeys(KINDS, 0)

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def delay_seconds(self) -> float:
        """Latency for one request: latency_ms plus uniform jitter in [0, jitter_ms]."""
        jitter = self.rng.uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.latency_ms + jitter) / 1000.0

    def choose(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any (scripted rules first, then the rates)."""
        scripted = self._from_script(method, path)
        # Always draw the same numbers, so a seed gives one sequence whatever the script.
        draw_5xx, draw_drop, draw_amb = self.rng.random(), self.rng.random(), self.rng.random()
        status = self.rng.choice((500, 502, 503))
        after = self.rng.random() < 0.5
        if scripted is not None:
            fault = scripted
        elif draw_5xx < self.p_5xx:
            fault = Fault(FIVE_XX, status=status)
        elif draw_drop < self.p_drop:
            fault = Fault(DROP)
        elif method != "GET" and draw_amb < self.p_ambiguous:
            fault = Fault(AMBIGUOUS_DROP if after else AMBIGUOUS_502)
        else:
            return None
        self.injected[fault.kind] += 1
        return fault

    def _from_script(self, method: str, path: str) -> Fault | None:
        for rule in self.script:
            if not rule.matches(method, path):
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            rule.fired += 1
            if rule.fired >= rule.times:
                self.script.remove(rule)
            return Fault(
                rule.fault,
                status=rule.status or (502 if rule.fault != FIVE_XX else 503),
                retry_after=rule.retry_after,
                ms=rule.ms,
                scripted=True,
            )
        return None

    def configure(self, body: dict[str, Any]) -> None:
        """Apply a POST /sandbox/faults body (see admin.py for the shape)."""
        rates = body.get("rates") or {}
        if not isinstance(rates, dict):
            raise FaultSpecError("rates must be an object")
        names = {
            "5xx": "p_5xx",
            "fault_5xx": "p_5xx",
            "drop": "p_drop",
            "fault_drop": "p_drop",
            "ambiguous": "p_ambiguous",
            "fault_ambiguous": "p_ambiguous",
            "latency_ms": "latency_ms",
            "jitter_ms": "jitter_ms",
        }
        updates: dict[str, float] = {}
        for key, value in rates.items():
            if key not in names:
                raise FaultSpecError(f"unknown rate {key!r}; expected one of {', '.join(names)}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise FaultSpecError(f"{key} must be a non-negative number")
            if names[key].startswith("p_") and value > 1:
                raise FaultSpecError(f"{key} is a probability (0..1)")
            updates[names[key]] = float(value)
        script = body.get("script")
        rules = [FaultRule.from_json(s) for s in script] if isinstance(script, list) else None
        if script is not None and rules is None:
            raise FaultSpecError("script must be a list")
        if "seed" in body:
            self.reseed(int(body["seed"]))
        for attr, value in updates.items():
            setattr(self, attr, value)
        if body.get("clear"):
            self.script = []
        if rules is not None:
            self.script = (self.script if body.get("append") else []) + rules

    def as_json(self) -> dict[str, Any]:
        return {
            "rates": {
                "5xx": self.p_5xx,
                "drop": self.p_drop,
                "ambiguous": self.p_ambiguous,
                "latency_ms": self.latency_ms,
                "jitter_ms": self.jitter_ms,
            },
            "script": [rule.as_json() for rule in self.script],
            "injected": dict(self.injected),
        }
