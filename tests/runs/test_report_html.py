"""report.html in a real browser: headless Chromium (Debian's `chromium`; .ci/run installs it)
opens the page of a run that met the portal's rate limit and had failed and invalid rows,
from disk, with every network request refused. The page renders without errors, shows the
run's counts and its problem rows, and the screenshot is saved (UPDATE_SCREENSHOT=1 writes
docs/report.png, the picture the README shows)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bulk_onboard.sandbox import Sandbox
from tests.helpers import ROOT, admin, invoke

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARIA = "maria.garcia@northwind.example"


def _inputs(tmp_path: Path) -> list[str]:
    rows = "".join(
        f"H-{n},Harbour {n},desk{n}@harbour{n}.example.com,{MARIA}\n" for n in range(1, 9)
    )
    (tmp_path / "clients.csv").write_text(
        "client_id,client_name,client_email,manager_email\n"
        + rows
        + "H-90,No Manager,desk@nomanager.example.com,nobody@northwind.example\n"
        + "H-91,Bad Address,not-an-address,maria.garcia@northwind.example\n"
        + "H-92,<b>Markup</b> Ltd,desk@markup.example.com,ghost@northwind.example\n"
    )
    return [str(tmp_path / "clients.csv")]


async def test_report_html_renders_the_run_in_chromium(sandbox: Sandbox, tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium as root")
    from playwright.async_api import async_playwright

    # a portal that answers 429 when more than 30 requests come within a second
    await admin(
        sandbox, "POST", "/sandbox/limits", {"enabled": True, "windowLimit": 30, "windowSeconds": 1}
    )
    result = await asyncio.to_thread(
        invoke, sandbox, tmp_path / "reports", "run", *_inputs(tmp_path), "--rate", "200"
    )
    assert result.exit_code == 1, result.output
    run_dir = next((tmp_path / "reports").glob("2*"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["requests"]["rate_limited"] > 0  # the chart has 429s to mark
    with (run_dir / "report.csv").open(encoding="utf-8-sig") as fh:
        problems = {r["client_id"] for r in csv.DictReader(fh) if r["status"] != "created"}
    assert problems == {"H-90", "H-91", "H-92"}

    errors: list[str] = []
    outside: list[str] = []
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        async with async_playwright() as play:
            browser = await play.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS
            )
            try:
                page = await browser.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

                async def refuse(route: object) -> None:
                    request = route.request  # type: ignore[attr-defined]
                    if not request.url.startswith("file://"):
                        outside.append(request.url)
                        await route.abort()  # type: ignore[attr-defined]
                    else:
                        await route.continue_()  # type: ignore[attr-defined]

                await page.route("**/*", refuse)
                await page.set_viewport_size({"width": 1100, "height": 900})
                await page.goto((run_dir / "report.html").as_uri())
                counts = {
                    await c.get_attribute("data-status"): int(await c.locator(".n").inner_text())
                    for c in await page.locator("#counts .count").all()
                }
                rows = await page.locator("#problems tbody tr").all()
                shown = {
                    (await r.get_attribute("data-row") or ""): await r.inner_text() for r in rows
                }
                markup = await page.locator("#problems b").count()
                chart = await page.locator("#chart svg").count()
                dots = await page.locator("#chart svg .dots").count()
                box = await page.locator("#chart svg").bounding_box()
                picture = tmp_path / "report.png"
                await page.screenshot(path=str(picture), full_page=True)
            finally:
                await browser.close()

    assert errors == [] and outside == []
    assert counts == {k: v for k, v in summary["statuses"].items() if v}
    assert set(shown) == {"client:H-90", "client:H-91", "client:H-92"}
    assert "nobody@northwind.example has no DocSpace account" in shown["client:H-90"]
    assert "bulk-onboard retry" in shown["client:H-91"]
    assert markup == 0  # a cell's markup is shown as text, never as markup
    assert chart == 1 and dots > 0 and box is not None and box["width"] > 500
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(picture, ROOT / "docs" / "report.png")
