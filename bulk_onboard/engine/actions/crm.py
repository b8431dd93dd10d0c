"""The CRM step of a client row: announce the onboarded client once, never lose it.

It runs after the DocSpace work of every row (its own phase), so a CRM outage never holds up
rooms, people or invitations. The step runner journals it like any step, and the portal's
ledger (crm/ledger.py: one idempotency key of portal, client and room per line) remembers every
record the CRM took, across runs and report folders: a nightly rerun announces only what the
CRM has not taken yet, and a record whose delivery failed is announced again by `retry`,
`--resume` or the next run. `reannounce` sends every record again (and keeps the ledger).
"""

from __future__ import annotations

from typing import Any

from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.crm.ledger import Ledger
from bulk_onboard.crm.payload import idempotency_key
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import Look
from bulk_onboard.engine.row import RowState, StepDone
from bulk_onboard.model.outputs import Change, CrmOut, changes_in
from bulk_onboard.model.steps import AnnounceCrm, Ref


class CrmActions:
    def __init__(
        self,
        ctx: Context,
        crm: CrmDelivery,
        ledger: Ledger,
        *,
        run_id: str,
        portal_url: str,
        reannounce: bool = False,
    ) -> None:
        self.reannounce = reannounce
        self.ctx = ctx
        self.crm = crm
        self.ledger = ledger
        self.run_id = run_id
        self.portal_url = portal_url

    async def announce(self, state: RowState, step: AnnounceCrm, look: Look) -> StepDone:
        fields = {name: self._value(value, state) for name, value in step.fields}
        client_id, room_id = str(fields["client_id"]), fields["room_id"]
        key = idempotency_key(client_id, room_id, self.portal_url)
        earlier = idempotency_key(client_id, room_id)  # the key of an earlier version's ledger
        if not self.reannounce and (key in self.ledger or earlier in self.ledger):
            changes = changes_in(state.outputs)
            if changes:
                return await self._update(fields, changes)
            return StepDone.of(CrmOut(key, (("crm", "taken before"),)), "found")
        result = await self.crm.announce(fields, run_id=self.run_id, portal_url=self.portal_url)
        if key not in self.ledger:
            self.ledger.add(key)
        return StepDone.of(CrmOut.from_json(result.outputs()), "created")

    async def _update(self, fields: dict[str, Any], changes: tuple[Change, ...]) -> StepDone:
        """A client the CRM took before, whose room this run changed: `client_updated`."""
        result = await self.crm.announce_update(
            fields,
            [c.as_dict() for c in changes],
            run_id=self.run_id,
            portal_url=self.portal_url,
        )
        if result.idempotency_key not in self.ledger:
            self.ledger.add(result.idempotency_key)
        return StepDone.of(CrmOut.from_json(result.outputs()), "changed")

    def _value(self, value: object, state: RowState) -> Any:
        if isinstance(value, Ref):
            return self.ctx.resolve(value, state)
        if isinstance(value, tuple):
            return [self._value(v, state) for v in value]
        return value
