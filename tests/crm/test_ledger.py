"""The CRM ledger belongs to the portal: one per portal address in the state folder, whatever
the report folder; an earlier version's ledger is taken over once."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.crm.ledger import LEDGER_NAME, Ledger, portal_state_dir
from bulk_onboard.crm.payload import idempotency_key


def test_each_portal_has_its_own_folder_named_for_people(tmp_path: Path) -> None:
    one = portal_state_dir(tmp_path, "https://acme.onlyoffice.com")
    assert one == portal_state_dir(tmp_path, "https://ACME.onlyoffice.com/")
    assert one.name.startswith("acme.onlyoffice.com-")
    assert one != portal_state_dir(tmp_path, "https://acme.onlyoffice.com/prefix")
    assert portal_state_dir(tmp_path, "http://127.0.0.1:8080").name.startswith("127.0.0.1-8080-")


def test_a_ledger_remembers_across_instances_and_names_its_portal(tmp_path: Path) -> None:
    ledger = Ledger.for_portal(tmp_path, "https://acme.onlyoffice.com")
    ledger.add("k1")
    again = Ledger.for_portal(tmp_path, "https://acme.onlyoffice.com")
    assert "k1" in again
    assert "k1" not in Ledger.for_portal(tmp_path, "https://fresh.onlyoffice.com")
    folder = portal_state_dir(tmp_path, "https://acme.onlyoffice.com")
    assert (folder / "portal.txt").read_text() == "https://acme.onlyoffice.com\n"


def test_an_old_ledger_in_the_report_folder_is_taken_over_once(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    old = idempotency_key("C-1", 5012)
    (reports / LEDGER_NAME).write_text(old + "\n")
    state = tmp_path / "state"
    first = Ledger.for_portal(state, "https://acme.onlyoffice.com", legacy=reports / LEDGER_NAME)
    assert old in first
    assert not (reports / LEDGER_NAME).exists()
    assert (reports / f"{LEDGER_NAME}.moved-to-state-folder").exists()
    other = Ledger.for_portal(state, "https://fresh.onlyoffice.com", legacy=reports / LEDGER_NAME)
    assert old not in other  # a second portal inherits nothing
