"""Every file of tests/cases through `bulk-onboard validate` and `bulk-onboard run`.

A file that cannot be used ends with exit 2, one sentence naming the file, and not one request
at the portal. A file with wrong rows ends with exit 1 and each wrong row reported `invalid`
with its column named, in the validate listing and in the run's report. A file in any encoding
with any delimiter is read with its accents intact. Nothing ends in a traceback.
(tests/cases/make_bad_inputs.py makes the files this module adds to the corpus.)
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.badinput.conftest import Outcome, run, validate
from tests.helpers import CASES, admin

pytestmark = pytest.mark.e2e  # a whole run against the sandbox

# File → a word its one-sentence message must contain (what is wrong with it).
UNUSABLE = {
    "empty.csv": "empty",
    "garbage.csv": "binary",
    "latin_garbage.csv": "not readable",
    "encrypted.xlsx": "password",
    "old_excel.xls": "damaged",  # a compound file with a Workbook stream and nothing in it
    "clients.ods": "damaged",  # an OpenDocument package without a real spreadsheet
    "renamed_pdf.xlsx": "pdf",
    "damaged.xlsx": "damaged",
    "header_only.csv": "no rows",
    "header_only.xlsx": "no rows",
    "no_kind.csv": "neither",
    "no_named_sheet.xlsx": "no rows",  # sheets are told by their columns, not their names
    "duplicate_columns.csv": "two columns",
    "clients_missing_columns.csv": "manager_email",
    "unclosed_quote.csv": "quote",
    "bad_empty.xlsx": "empty",
    "bad_whitespace_only.csv": "empty",
    "bad_bom_only.csv": "empty",
    "bad_binary_garbage.xlsx": "binary",
    "bad_png_named.csv": "binary",
    "bad_nul_bytes.csv": "binary",
    "bad_control_chars.csv": "binary",
    "bad_only_delimiters.csv": "neither",
    "bad_json_named.csv": "neither",
    "bad_html_export.xlsx": "neither",
    "bad_zip_no_workbook.xlsx": "damaged",
    "bad_sheet_xml.xlsx": "damaged",
    "bad_zip_crc.xlsx": "damaged",
    "bad_docx_named.xlsx": "word",
    "bad_many_columns.csv": "columns",
}

# File → {(sheet, line): columns its problems are reported under}; every other row is valid.
WRONG_ROWS: dict[str, dict[tuple[str, int], set[str]]] = {
    "bad_wrong_kinds_clients.csv": {
        ("", 2): {"client_id"},
        ("", 3): {"client_name"},
        ("", 4): {"client_email"},
        ("", 5): {"manager_email"},
        ("", 6): {"room_title"},
        ("", 7): {"room_type"},
        ("", 8): {"client_access"},
    },
    "bad_wrong_kinds_users.csv": {
        ("", 2): {"email"},
        ("", 3): {"first_name"},
        ("", 4): {"last_name"},
        ("", 5): {"type"},
        ("", 7): {"access"},
        ("", 8): {"culture"},
    },
    "bad_wrong_kinds.xlsx": {
        ("clients", 2): {"client_email", "manager_email", "room_type"},
        ("clients", 3): {"manager_email"},
        ("clients", 4): {"room_type"},
        ("clients", 5): {"client_email", "manager_email"},
        ("users", 2): {"email"},
        ("users", 3): {"first_name", "last_name", "room", "culture"},
    },
    "bad_formula_injection.csv": {
        ("", 6): {"room_title"},
        ("", 7): {"room_title"},
        ("", 8): {"room_title"},
    },
    "bad_formula_injection.xlsx": {
        ("clients", 2): {"client_name"},
        ("clients", 3): {"client_name"},
    },
    "bad_huge_cell.xlsx": {("users", 2): {"first_name"}},
    # A 1 MB client name is read (the csv module's 128 KiB field limit is raised), and the row
    # is refused for the room title it would make.
    "bad_huge_cell.csv": {("", 2): {"room_title"}},
    "bad_unicode_tricks.csv": {
        ("", 2): {"first_name"},
        ("", 3): {"first_name", "last_name"},
        ("", 4): {"first_name"},
        ("", 5): {"email"},
    },
    "users_multiline.csv": {("", 5): {"email"}},
    "clients_aliases.csv": {("", 2): {"client_access"}},
}

# Files whose rows are all valid: their accented text must reach the portal intact. The
# people files of make_cases.py join rooms of clients_utf8.csv, so they run with it.
CLIENT_NAMES = {"Müller & Söhne GmbH", "Café Lumière"}
PERSON = ("Zoë", "Schröder")
ENCODED = sorted(p.name for p in CASES.glob("enc_*.csv"))
WITH_ROOMS = ["users_pipe.csv", "users_utf16le_tab.csv", "users_utf16be_comma.csv"]
VALID = [*ENCODED, "clients_utf8.csv", "clients_utf8_bom_semicolon.csv"]
VALID += ["clients_cp1252_semicolon.csv", *WITH_ROOMS]

# 10,000 copies of one address: checked on its own (it once took 40 s: bench/duplicates.py).
DUPLICATES = "bad_duplicate_emails.csv"
# Extra columns named like the report's own columns.
COLLIDING = "bad_report_column_names.csv"
OTHER = {
    "onboarding_two_sheets.xlsx",
    "onboarding.xls",  # read in tests/sources/test_sources.py
    "onboarding.ods",
    "sample_clients.csv",
    "sample_users.csv",
    "single_sheet.xlsx",
    "users_aliases.csv",
    "users_blank_rows.csv",
    "users_sep_line.csv",
    "sample_playbook_crm.toml",
    "make_cases.py",
    "make_bad_inputs.py",
}


def test_the_corpus_is_complete_and_every_file_has_an_expectation() -> None:
    files = {p.name for p in CASES.iterdir() if p.is_file()}
    inputs = {name for name in files if not name.endswith((".py", ".toml"))}
    assert len(inputs) >= 30
    covered = set(UNUSABLE) | set(WRONG_ROWS) | set(VALID) | {DUPLICATES, COLLIDING}
    assert files - covered - OTHER == set()
    assert covered - files == set()
    assert len(ENCODED) >= 20  # 5 encodings x 4 delimiters, and more


def no_traceback(outcome: Outcome) -> None:
    assert outcome.exception is None, repr(outcome.exception)
    assert "Traceback" not in outcome.output


def one_sentence_naming(outcome: Outcome, name: str, word: str) -> None:
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome.output
    message = lines[0]
    assert name in message and message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"
    assert word in message.lower(), message


async def requests_seen(sb: Sandbox) -> int:
    return int((await admin(sb, "GET", "/sandbox/requests"))["total"])


@pytest.mark.parametrize(("name", "word"), sorted(UNUSABLE.items()))
async def test_an_unusable_file_is_refused_with_one_sentence_and_nothing_sent(
    sandbox: Sandbox, tmp_path: Path, name: str, word: str
) -> None:
    checked = await validate(CASES / name)
    no_traceback(checked)
    assert checked.exit_code == 2, checked.output
    one_sentence_naming(checked, name, word)

    ran = await run(sandbox, tmp_path / "reports", CASES / name)
    no_traceback(ran)
    assert ran.exit_code == 2, ran.output
    one_sentence_naming(ran, name, word)
    assert await requests_seen(sandbox) == 0


def report_rows(report_dir: Path) -> list[dict[str, str]]:
    path = next(report_dir.rglob("report.csv"))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(("name", "wrong"), sorted(WRONG_ROWS.items()))
async def test_wrong_rows_are_invalid_with_their_column_named(
    sandbox: Sandbox, tmp_path: Path, name: str, wrong: dict[tuple[str, int], set[str]]
) -> None:
    checked = await validate(CASES / name)
    no_traceback(checked)
    assert checked.exit_code == 1, checked.output
    listed = [line.split() for line in checked.stdout.splitlines() if line.startswith(name)]
    for (sheet, line), columns in wrong.items():
        for column in columns:
            assert any(
                str(line) in cells and column in cells and (not sheet or sheet in cells)
                for cells in listed
            ), f"{name} {sheet} line {line}: no problem listed under {column}"

    ran = await run(sandbox, tmp_path / "reports", CASES / name)
    no_traceback(ran)
    assert ran.exit_code == 1, ran.output
    rows = report_rows(tmp_path / "reports")
    invalid = {(r["sheet"], int(r["line"])): r for r in rows if r["status"] == "invalid"}
    assert set(invalid) == set(wrong)
    for key, columns in wrong.items():
        for column in columns:
            assert f"{column}:" in invalid[key]["error"], invalid[key]["error"]
    for row in rows:  # the valid rows were onboarded or failed with a reason, never crashed
        assert row["status"] in ("created", "updated", "unchanged", "failed", "invalid")
        assert row["failed_step"] != "internal", row["error"]
        if row["status"] == "failed":
            assert row["error"], row


@pytest.mark.parametrize("name", VALID)
async def test_every_encoding_and_delimiter_arrives_intact(
    sandbox: Sandbox, tmp_path: Path, name: str
) -> None:
    checked = await validate(CASES / name)
    no_traceback(checked)
    assert checked.exit_code == 0, checked.output

    files = [CASES / name, *([CASES / "clients_utf8.csv"] if name in WITH_ROOMS else [])]
    ran = await run(sandbox, tmp_path / "reports", *files)
    no_traceback(ran)
    assert ran.exit_code == 0, ran.output
    state = await admin(sandbox, "GET", "/sandbox/state")
    titles = {room["title"] for room in state["rooms"]}
    people = {(p["firstName"], p["lastName"]) for p in state["people"]}
    kinds = {r["kind"] for r in report_rows(tmp_path / "reports") if r["file"] == name}
    if "client" in kinds:
        assert {f"Client - {n}" for n in CLIENT_NAMES} <= titles, titles
    if "user" in kinds:
        assert PERSON in people, people


@pytest.mark.slow
async def test_ten_thousand_copies_of_one_address_are_each_reported(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "bulk_onboard", "validate", str(CASES / DUPLICATES)]
    try:
        done = await asyncio.to_thread(
            subprocess.run, command, check=False, capture_output=True, timeout=120, cwd=tmp_path
        )
    except subprocess.TimeoutExpired:
        # A guard against a hang, not a speed budget: bench/duplicates.py measures the time.
        pytest.fail("validate of 10,000 copies of one address did not finish in 120 s")
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert len(done.stdout) < 5_000_000, f"{len(done.stdout):,} bytes of output"
    listed = [line for line in done.stdout.decode().splitlines() if "email" in line.split()]
    assert len(listed) == 10_000  # every copy is named a duplicate of the others

    # the run in its own process too: 10,000 rows under the suite's coverage take seconds more
    env = {**os.environ, "DOCSPACE_URL": sandbox.url, "DOCSPACE_TOKEN": sandbox.token}
    reports = ["--report-dir", str(tmp_path / "reports"), "--rate", "500", "--no-progress"]
    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bulk_onboard", "run", str(CASES / DUPLICATES), *reports],
        check=False,
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert b"Traceback" not in ran.stderr + ran.stdout
    assert ran.returncode == 1, ran.stderr.decode()
    rows = report_rows(tmp_path / "reports")
    assert len(rows) == 10_000
    assert all(r["status"] == "invalid" and "email:" in r["error"] for r in rows)
    assert max(len(r["error"]) for r in rows) < 1_000
    assert await requests_seen(sandbox) == 0


async def test_input_columns_named_like_report_columns_keep_their_values(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    checked = await validate(CASES / COLLIDING)
    no_traceback(checked)
    assert checked.exit_code == 0, checked.output
    ran = await run(sandbox, tmp_path / "reports", CASES / COLLIDING)
    no_traceback(ran)
    assert ran.exit_code == 0, ran.output
    path = next((tmp_path / "reports").rglob("report.csv"))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, row = list(csv.reader(handle))[:2]
    cells = dict(zip(header, row, strict=True))
    assert "created" in row
    for value in ("vip", "none so far", "many", "legacy-17"):
        assert value in row, f"{value!r} is lost: {cells}"
