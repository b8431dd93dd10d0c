"""The CRM step of a client row: announce the onboarded client once, never lose it.

It runs after the DocSpace work of every row (its own phase), so a CRM outage never holds up
rooms, people or invitations. Delivery is journalled like any step, and a ledger in the report
folder (`crm-delivered.txt`, one idempotency key per line) remembers every record the CRM took,
across runs: a nightly rerun announces only what the CRM has not taken yet, and a record whose
delivery failed is announced again by `retry`, `--resume` or the next run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.crm.payload import idempotency_key
from bulk_onboard.errors import CrmError
from bulk_onboard.engine.step_runner import Context, RowState, StepFailed, journalled
from bulk_onboard.model.steps import AnnounceCrm, Ref

log = structlog.get_logger("bulk_onboard")


class Ledger:
    """Idempotency keys the CRM has taken, kept across runs in the report folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: set[str] = set()
        if path.exists():
            self.keys = {line.strip() for line in path.read_text().splitlines() if line.strip()}

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.keys.add(key)


class Announcer:
    def __init__(
        self, ctx: Context, crm: CrmDelivery, ledger: Ledger, *, run_id: str, portal_url: str
    ) -> None:
        self.ctx = ctx
        self.crm = crm
        self.ledger = ledger
        self.run_id = run_id
        self.portal_url = portal_url

    async def run(self, state: RowState) -> None:
        for step in state.plan.steps:
            if isinstance(step, AnnounceCrm):
                await self.announce(state, step)

    async def announce(self, state: RowState, step: AnnounceCrm) -> None:
        row = state.plan.row_key
        done = self.ctx.checkpoint.outputs(row).get(step.key)
        if done is not None:
            state.outputs[step.key] = done
            state.outcomes[step.key] = journalled(self.ctx.checkpoint.outcome(row, step.key))
            return
        try:
            fields = {name: self._value(value, state) for name, value in step.fields}
        except Exception as exc:
            raise StepFailed(step.key, exc) from exc
        key = idempotency_key(str(fields["client_id"]), fields["room_id"])
        if key in self.ledger:
            out: dict[str, Any] = {"idempotency_key": key, "crm": "taken before"}
            outcome = "found"
        else:
            try:
                result = await self.crm.announce(
                    fields, run_id=self.run_id, portal_url=self.portal_url
                )
            except CrmError as exc:
                raise StepFailed(step.key, exc) from exc
            self.ledger.add(key)
            out, outcome = result.outputs(), "created"
            log.info("step_finished", row=row, step=step.key, outcome=outcome)
        state.outputs[step.key] = out
        state.outcomes[step.key] = outcome  # type: ignore[assignment]
        self.ctx.journal.record(row, step.key, out, outcome)

    def _value(self, value: object, state: RowState) -> Any:
        if isinstance(value, Ref):
            return self.ctx.resolve(value, state)
        if isinstance(value, tuple):
            return [self._value(v, state) for v in value]
        return value
