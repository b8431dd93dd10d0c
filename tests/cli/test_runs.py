"""`bulk-onboard runs` and `runs prune` on the run folders of real runs against the sandbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.runs.folder import report_dir_lock
from bulk_onboard.runs.history import past_runs, read_run, run_lines
from bulk_onboard.sandbox import Sandbox
from tests.helpers import invoke

pytestmark = pytest.mark.e2e  # whole runs against the sandbox


def _clients(tmp_path: Path, failing: bool) -> Path:
    lines = ["client_id,client_name,client_email,manager_email"]
    lines.append("C-1,Fine,ok@acme.example.com,maria@northwind.example")
    if failing:  # a manager with no account: the row fails
        lines.append("C-2,Orphan,c2@acme.example.com,nobody@northwind.example")
    path = tmp_path / ("failing.csv" if failing else "clean.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _runs(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["runs", *args], catch_exceptions=False)
    return result.exit_code, result.output


async def test_runs_lists_and_prune_removes_the_oldest_run_folders(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    failing, clean = _clients(tmp_path, True), _clients(tmp_path, False)
    codes = []
    for sheet in (failing, clean, failing):
        result = await asyncio.to_thread(invoke, sandbox, reports, "run", str(sheet))
        codes.append(result.exit_code)
    assert codes == [1, 0, 1]
    first, second, third = past_runs(reports)

    code, out = _runs("--report-dir", str(reports))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["run", "started", "portal", "verdict", "rows"]
    assert [line.split()[0] for line in lines[1:]] == [first.run_id, second.run_id, third.run_id]
    assert lines[1].split()[2:] == [
        sandbox.url,
        "rows_need_attention",
        "1",
        "created,",
        "1",
        "failed",
    ]
    assert lines[2].split()[2:] == [sandbox.url, "ok", "1", "unchanged"]

    code, out = _runs("--report-dir", str(reports), "--json")
    listed = json.loads(out)
    assert [r["verdict"] for r in listed] == ["rows_need_attention", "ok", "rows_need_attention"]
    assert listed[0]["statuses"]["failed"] == 1 and listed[0]["exit_code"] == 1
    assert listed[1]["portal"] == sandbox.url and listed[1]["exit_code"] == 0

    # a run using the report folder: nothing is removed
    with report_dir_lock(reports):
        code, out = _runs("prune", "--keep", "1", "--report-dir", str(reports))
    assert code == 4, out
    assert "nothing was removed" in out
    assert len(past_runs(reports)) == 3

    code, out = _runs("prune", "--keep", "1", "--report-dir", str(reports))
    assert code == 0, out
    assert out.splitlines()[0] == "removed 2 run folders:"
    assert str(first.path) in out and str(second.path) in out
    assert not first.path.exists() and not second.path.exists() and third.path.is_dir()
    assert [r.run_id for r in past_runs(reports)] == [third.run_id]

    code, out = _runs("prune", "--keep", "1", "--report-dir", str(reports))
    assert (code, out.strip()) == (0, "nothing to remove: 1 or fewer runs")


async def test_the_playbooks_retention_prunes_after_a_run(sandbox: Sandbox, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    clean = str(_clients(tmp_path, False))
    for _ in range(2):
        assert (await asyncio.to_thread(invoke, sandbox, reports, "run", clean)).exit_code == 0
    older = [r.path for r in past_runs(reports)]
    playbook = tmp_path / "playbook.toml"
    playbook.write_text("[runs]\nkeep = 2\n", encoding="utf-8")
    result = await asyncio.to_thread(
        invoke, sandbox, reports, "run", clean, "--playbook", str(playbook)
    )
    assert result.exit_code == 0, result.output
    assert f"removed 1 run folder:\n  {older[0]}  (" in result.output
    kept = [r.path for r in past_runs(reports)]
    assert len(kept) == 2 and kept[0] == older[1]


def test_a_folder_without_run_json_is_not_a_run_and_an_unfinished_run_says_so(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes").mkdir()
    assert read_run(tmp_path / "notes") is None
    run = tmp_path / "20261206-010203-abcde"
    run.mkdir()
    (run / "run.json").write_text(
        json.dumps({"run_id": run.name, "created": "2026-12-06T01:02:03+00:00"}), encoding="utf-8"
    )
    (found,) = past_runs(tmp_path)
    assert (found.verdict, found.counts(), found.portal) == ("unfinished", "-", None)
    assert run_lines([found])[1].split() == [
        run.name,
        "2026-12-06T01:02:03+00:00",
        "-",
        "unfinished",
        "-",
    ]
    assert past_runs(tmp_path / "missing") == [] and run_lines([]) == []
    code, out = _runs("--report-dir", str(tmp_path / "missing"))
    assert (code, out.strip()) == (0, f"no runs in {tmp_path / 'missing'}/")
