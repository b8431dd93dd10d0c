"""The API token never appears in what a run leaves behind: its JSON log, its output, the
journal, summary.json, the CSV report, the XLSX report (every part of the zip), or the texts
of the errors it met, whether the run succeeds, the token is refused, the portal misbehaves,
or the portal even writes the token into its error answers. The same holds for `undo`: its
output, log, undo.jsonl and undo's report."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from click.testing import CliRunner

from bulk_onboard.cli.commands import main
from bulk_onboard.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.helpers import MANAGERS, SAMPLES, admin, serving
from tests.security.conftest import Ran, artefacts, run_tool

pytestmark = pytest.mark.e2e  # a whole run against the sandbox


def fragments(token: str) -> list[str]:
    """The token, its part after "sk-", and its first and last 16 characters: a redaction
    that keeps any of these is a leak too."""
    body = token.removeprefix("sk-")
    return [token, body, body[:16], body[-16:]]


def assert_nowhere(token: str, ran: Ran, report_dir: Path) -> dict[str, str]:
    texts = {"log (stdout)": ran.stdout, "stderr": ran.stderr, **artefacts(report_dir)}
    for name, text in texts.items():
        for piece in fragments(token):
            assert piece not in text, f"the token ({piece[:6]}…) is in {name}"
    return texts


async def test_a_successful_run_keeps_the_token_out_of_logs_and_files(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    ran = await run_tool(
        sandbox.url, sandbox.token, reports, SAMPLES / "clients.csv", SAMPLES / "users.csv"
    )
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    texts = assert_nowhere(sandbox.token, ran, reports)
    # The places searched are the real ones: a JSON log, a journal, both reports, a summary.
    events = [json.loads(line)["event"] for line in ran.stdout.splitlines() if line.strip()]
    assert "run_started" in events and "run_finished" in events
    assert any(name.endswith("journal.jsonl") for name in texts)
    assert any(name.startswith("report.xlsx:xl/worksheets/") for name in texts)
    assert "report.csv" in texts and "summary.json" in texts


async def test_a_refused_token_is_not_repeated_anywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    wrong = "sk-" + secrets.token_hex(24)
    reports = tmp_path / "reports"
    ran = await run_tool(sandbox.url, wrong, reports, SAMPLES / "clients.csv")
    assert ran.exit_code == 8, ran.stdout + ran.stderr
    assert "token" in (ran.stdout + ran.stderr).lower()
    assert_nowhere(wrong, ran, reports)


async def test_faults_retries_and_ambiguous_writes_do_not_leak_the_token(tmp_path: Path) -> None:
    config = SandboxConfig(
        db=":memory:", fault_5xx=0.15, fault_drop=0.05, fault_ambiguous=0.1, seed=11
    )
    async with start_sandbox(config) as sb:
        await admin(sb.url, "POST", "/sandbox/people", MANAGERS)
        reports = tmp_path / "reports"
        ran = await run_tool(sb.url, sb.token, reports, SAMPLES / "clients.csv")
        faults = (await admin(sb.url, "GET", "/sandbox/requests"))["faults"]
    assert ran.exit_code in (0, 1), ran.stdout + ran.stderr
    assert sum(faults.values()) > 0, faults  # the portal did misbehave
    texts = assert_nowhere(sb.token, ran, reports)
    log = texts["log (stdout)"]
    assert "retry" in log or "ambiguous" in log, "the faults left no trace in the log"


# A portal that writes the caller's credentials into its error answers: the texts of the
# errors end up in the log and the report, so they must be redacted there. The token is not
# shaped like an API key, so only the tool's knowledge of the token can hide it.
ECHO_TOKEN = "session." + secrets.token_urlsafe(24)


@pytest.fixture(params=[400, 401, 403])
async def echoing_portal(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    status: int = request.param

    async def answer(incoming: web.Request) -> web.Response:
        credentials = incoming.headers.get("Authorization", "")
        body = {
            "error": {
                "message": f"request with {credentials} refused",
                "type": "System.ArgumentException",
                "stack": f"   at Auth(token={credentials.removeprefix('Bearer ')})",
            },
            "status": 1,
            "statusCode": status,
        }
        return web.json_response(body, status=status)

    async with serving(answer) as url:
        yield url


async def test_a_portal_echoing_the_token_in_errors_is_redacted(
    echoing_portal: str, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    ran = await run_tool(echoing_portal, ECHO_TOKEN, reports, SAMPLES / "clients.csv")
    assert ran.exit_code in (1, 8), ran.stdout + ran.stderr  # 8: its 401 refuses the token
    texts = assert_nowhere(ECHO_TOKEN, ran, reports)
    # The portal's error texts did reach the report and the log, only without the token.
    assert "request with Bearer" in texts["report.csv"]
    assert "request with Bearer" in texts["log (stdout)"]


@pytest.fixture
async def echoing_archive(sandbox: Sandbox) -> AsyncIterator[tuple[str, dict[str, bool]]]:
    """The sandbox behind a proxy that takes ECHO_TOKEN for the sandbox's token and, once
    asked to echo, answers every archive with a finished operation whose error text holds
    the caller's credentials (the operation's error reaches undo's report as it came)."""
    echo = {"on": False}

    async def forward(incoming: web.Request) -> web.Response:
        credentials = incoming.headers.get("Authorization", "")
        headers = {
            k: v
            for k, v in incoming.headers.items()
            if k.lower() not in ("host", "content-length", "authorization")
        }
        headers["Authorization"] = credentials.replace(ECHO_TOKEN, sandbox.token)
        async with (
            ClientSession() as http,
            http.request(
                incoming.method,
                sandbox.url + incoming.raw_path,
                data=await incoming.read(),
                headers=headers,
            ) as answer,
        ):
            data = await answer.read()
            status, kept = (
                answer.status,
                {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower() in ("content-type", "retry-after")
                },
            )
        if echo["on"] and incoming.method == "PUT" and incoming.path.endswith("/archive"):
            body = json.loads(data)
            body["response"].update(finished=True, error=f"archive refused for {credentials}")
            data = json.dumps(body).encode()
        return web.Response(body=data, status=status, headers=kept)

    async with serving(forward) as url:
        yield url, echo


async def test_undo_keeps_the_token_out_even_of_an_archive_error_that_echoes_it(
    echoing_archive: tuple[str, dict[str, bool]], tmp_path: Path
) -> None:
    url, echo = echoing_archive
    reports = tmp_path / "reports"
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "client_id,client_name,client_email,manager_email\n"
        "E-1,Echo One,one@echo-one.example.com,maria.garcia@northwind.example\n"
        "E-2,Echo Two,two@echo-two.example.com,maria.garcia@northwind.example\n"
    )
    ran = await run_tool(url, ECHO_TOKEN, reports, clients)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    run = next(p for p in reports.iterdir() if (p / "run.json").is_file())
    echo["on"] = True
    ran = await run_tool(url, ECHO_TOKEN, reports, run, Path("--yes"), command="undo")
    assert ran.exit_code == 1, ran.stdout + ran.stderr  # every archive refused
    texts = assert_nowhere(ECHO_TOKEN, ran, reports)
    [undo_report] = [name for name in texts if name.endswith("report.csv") and "/undo/" in name]
    assert "report.csv" in texts  # the run's own report is searched too
    assert texts[undo_report].count("archive refused for Bearer [redacted]") == 2
    assert "undo.jsonl" in texts  # people were still disabled and deleted, journalled
    assert "archive refused for Bearer" in texts["log (stdout)"]


def test_the_token_cannot_be_given_on_the_command_line() -> None:
    token = "sk-" + secrets.token_hex(20)
    result = CliRunner().invoke(
        main, ["run", str(SAMPLES / "clients.csv"), "--token", token], env={}
    )
    assert result.exit_code == 2
    assert token not in result.output


@pytest.mark.parametrize("shape", ["http://x:{t}@127.0.0.1:99999", "https://127.0.0.1/?key={t}"])
def test_a_token_pasted_into_the_portal_address_is_not_printed_back(shape: str) -> None:
    token = "sk-" + secrets.token_hex(20)
    result = CliRunner().invoke(
        main,
        ["run", str(SAMPLES / "clients.csv"), "--portal", shape.format(t=token)],
        env={"DOCSPACE_TOKEN": token},
    )
    assert result.exit_code == 2
    for piece in fragments(token):
        assert piece not in result.output
