"""The client contact's name: read from its columns (and their aliases), both or neither,
checked as the portal checks names, and planned as the step that names the contact."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.cli.plan_output import step_text
from bulk_onboard.intake import load_intake
from bulk_onboard.model.steps import NameContact
from bulk_onboard.playbook.reader import default_playbook

HEADER = "Client ID,Company,Contact email,Manager,{first},{last}\n"
MANAGER = "maria@northwind.example"


def _clients(tmp_path: Path, rows: str, first: str = "Contact first name", last: str = "") -> Path:
    path = tmp_path / "clients.csv"
    header = HEADER.format(first=first, last=last or "Contact last name")
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_named_contacts_are_planned_and_nameless_ones_as_before(tmp_path: Path) -> None:
    rows = f"K-1,Acme,ana@acme.example,{MANAGER},Ana,Lee\nK-2,Bolt,it@bolt.example,{MANAGER},,\n"
    intake = load_intake([_clients(tmp_path, rows)], default_playbook())
    assert intake.invalid == ()
    named, nameless = intake.plans
    [contact] = [s for s in named.steps if isinstance(s, NameContact)]
    assert contact == NameContact("contact", "ana@acme.example", "Ana", "Lee")
    assert [s.key for s in named.steps].index("contact") < [s.key for s in named.steps].index(
        "share"
    )
    assert step_text(contact) == (
        "ensure the contact ana@acme.example is named Ana Lee (a guest, if new)"
    )
    assert not any(isinstance(s, NameContact) for s in nameless.steps)


def test_german_headers_are_the_contact_names(tmp_path: Path) -> None:
    rows = f"K-1,Acme,ana@acme.example,{MANAGER},Ana,Lee\n"
    path = _clients(tmp_path, rows, "Ansprechpartner Vorname", "Ansprechpartner Nachname")
    [record] = load_intake([path], default_playbook()).clients
    assert (record.contact_first_name, record.contact_last_name) == ("Ana", "Lee")


def test_one_name_without_the_other_or_a_bad_name_is_a_problem_of_its_column(
    tmp_path: Path,
) -> None:
    rows = f"K-1,Acme,ana@acme.example,{MANAGER},Ana,\nK-2,Bolt,it@bolt.example,{MANAGER},Bo,B0\n"
    intake = load_intake([_clients(tmp_path, rows)], default_playbook())
    problems = {i.key: [(p.label, p.text) for p in i.problems] for i in intake.invalid}
    [(label, text)] = problems["K-1"]
    assert label == "Contact last name"
    assert text.startswith("The contact's last name is missing; fill in both")
    [(label, text)] = problems["K-2"]
    assert label == "Contact last name" and '"B0"' in text
