"""A retry's rows keep the key their input line had (runs/identity.py), without a portal."""

from __future__ import annotations

import json
from pathlib import Path

from bulk_onboard.intake import load_intake
from bulk_onboard.playbook.reader import default_playbook
from bulk_onboard.runs.folder import create_run_folder
from bulk_onboard.runs.identity import (
    changed_inputs,
    keep_identities,
    refuse_changed_keys,
    rerun_command,
    run_keys,
)

HEADER = "client_id,client_name,client_email,manager_email\n"


def _clients(path: Path, client_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{client_id},Hill,ops@hill.example,m@x.example\n", "utf-8")
    return path


def test_a_changed_id_is_refused_and_a_case_change_is_not(tmp_path: Path) -> None:
    given = _clients(tmp_path / "clients.csv", "00456")
    folder = create_run_folder(tmp_path / "reports", "r1", [given], None, None)
    keys = run_keys(folder.path, default_playbook())
    assert keys is not None and list(keys.values()) == ["00456"]
    edited = load_intake([_clients(tmp_path / "e" / "clients.csv", "456")], default_playbook())
    refused = refuse_changed_keys(edited, keys)
    assert (len(refused.clients), len(refused.plans), len(refused.invalid)) == (0, 0, 1)
    [problem] = refused.invalid[0].problems
    assert problem.text.startswith('"456" is not the client_id "00456" that clients.csv, line 2')
    same = load_intake([_clients(tmp_path / "s" / "clients.csv", "00456")], default_playbook())
    assert refuse_changed_keys(same, keys) is same


def test_nothing_to_compare_with_outside_a_run_folder_or_without_its_inputs(
    tmp_path: Path,
) -> None:
    intake = load_intake([_clients(tmp_path / "clients.csv", "456")], default_playbook())
    assert keep_identities(intake, tmp_path) is intake
    folder = create_run_folder(tmp_path / "reports", "r1", [tmp_path / "clients.csv"], None, None)
    for copy in folder.inputs:
        copy.unlink()
    assert run_keys(folder.path, default_playbook()) is None
    assert keep_identities(intake, folder.path) is intake


def test_changed_inputs_names_the_files_changed_since_the_run(tmp_path: Path) -> None:
    given = _clients(tmp_path / "clients.csv", "00456")
    folder = create_run_folder(tmp_path / "reports", "r1", [given], None, None)
    assert changed_inputs(folder.path) == []
    _clients(given, "00457")
    assert changed_inputs(folder.path) == [str(given)]
    given.unlink()
    assert changed_inputs(folder.path) == []  # gone: nothing to compare
    (folder.path / "run.json").write_text("{", encoding="utf-8")
    assert changed_inputs(folder.path) == []
    retried = create_run_folder(tmp_path / "reports", "r2", [], None, None, retry_of="r1")
    meta = json.loads((retried.path / "run.json").read_text(encoding="utf-8"))
    assert meta["retry_of"] == "r1" and changed_inputs(retried.path) == []


def test_the_command_to_run_the_changed_files_again_has_the_run_s_options(tmp_path: Path) -> None:
    given = _clients(tmp_path / "my clients.csv", "00456")
    playbook = tmp_path / "crm.toml"
    playbook.write_text("", encoding="utf-8")
    folder = create_run_folder(tmp_path / "reports", "r1", [given], playbook, "clients")
    assert rerun_command(folder.path) == (
        f"bulk-onboard run '{given}' --playbook {playbook} --kind clients"
    )


def test_an_id_excel_wrote_in_scientific_notation_is_refused(tmp_path: Path) -> None:
    given = _clients(tmp_path / "clients.csv", "1234567890123456")
    folder = create_run_folder(tmp_path / "reports", "r1", [given], None, None)
    keys = run_keys(folder.path, default_playbook())
    assert keys is not None
    saved = load_intake(
        [_clients(tmp_path / "e" / "clients.csv", "1.23457E+15")], default_playbook()
    )
    [refused] = refuse_changed_keys(saved, keys).invalid
    assert refused.key == "1.23457E+15"
    assert refused.problems[0].text.startswith(
        '"1.23457E+15" is not the client_id "1234567890123456" that clients.csv, line 2'
    )


def test_two_ids_excel_made_one_are_told_the_cause_first(tmp_path: Path) -> None:
    rows = ["1234567890123456", "1234567890123457"]
    given = tmp_path / "clients.csv"
    lines = [f"{n},Co {i},c{i}@x.example,m@x.example" for i, n in enumerate(rows)]
    given.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    folder = create_run_folder(tmp_path / "reports", "r1", [given], None, None)
    keys = run_keys(folder.path, default_playbook())
    assert keys is not None
    saved = tmp_path / "e" / "clients.csv"
    saved.parent.mkdir()
    excel = [line.replace(n, "1.23457E+15") for line, n in zip(lines, rows, strict=True)]
    saved.write_text(HEADER + "\n".join(excel) + "\n", encoding="utf-8")
    intake = load_intake([saved], default_playbook())
    assert len(intake.invalid) == 2  # "also the client_id on line 3"
    refused = refuse_changed_keys(intake, keys).invalid
    assert [row.problems[0].text[:40] for row in refused] == [
        '"1.23457E+15" is not the client_id "1234',
        '"1.23457E+15" is not the client_id "1234',
    ]
    assert all(len(row.problems) == 2 for row in refused)


def test_a_retry_of_a_report_outside_a_run_folder_compares_with_that_report(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.csv"
    report.write_text(
        "file,sheet,line,kind,status,client_id\nclients.csv,,2,client,failed,00456\n", "utf-8"
    )
    folder = create_run_folder(tmp_path / "reports", "r2", [report], None, None, str(report))
    keys = run_keys(folder.path, default_playbook())
    assert keys is not None and list(keys.values()) == ["00456"]
