"""The client_updated record: what a run changed on a client the CRM took before."""

from __future__ import annotations

from bulk_onboard.crm.payload import build_record, build_update_record

FIELDS = {
    "client_id": "K-1",
    "client_name": "Acme Holding",
    "client_email": "new@acme.example",
    "manager_email": "amara@x.example",
    "room_id": 7,
    "room_title": "Client - Acme Holding",
}
CHANGES = [{"what": "contact", "old": "it@acme.example", "new": "new@acme.example"}]


def test_the_update_names_its_onboarding_record_and_its_key_is_news_once_per_run() -> None:
    portal = "https://portal.example.com"
    onboarded = build_record(FIELDS, run_id="r1", portal_url=portal, at=0)
    update = build_update_record(FIELDS, CHANGES, run_id="r2", portal_url=portal, at=60)
    assert update["event"] == "client_updated"
    assert update["onboarding_key"] == onboarded["idempotency_key"]
    assert update["changes"] == CHANGES and update["updated_at"] == "1970-01-01T00:01:00Z"
    assert "onboarded_at" not in update
    same = build_update_record(FIELDS, CHANGES, run_id="r2", portal_url=portal, at=90)
    later = build_update_record(FIELDS, CHANGES, run_id="r3", portal_url=portal, at=90)
    assert same["idempotency_key"] == update["idempotency_key"]  # a resumed run repeats it
    assert (
        len({update["idempotency_key"], later["idempotency_key"], onboarded["idempotency_key"]})
        == 3
    )
