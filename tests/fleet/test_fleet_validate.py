"""`fleet validate`: every portal's token source, playbook and input resolved and read; with
--check-tokens each portal read once with its token."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.sandbox import Sandbox
from tests.fleet.conftest import write_fleet
from tests.fleet.test_fleet_run import in_thread, writes
from tests.helpers import admin


async def test_validate_names_each_portal_and_what_is_wrong(
    tmp_path: Path, three_portals: dict[str, Sandbox]
) -> None:
    path = write_fleet(tmp_path, three_portals)
    good = await in_thread("validate", str(path), "--check-tokens")
    assert good.exit_code == 0, good.output
    for name in three_portals:
        assert (
            f"{name}: {three_portals[name].url}: token file, 25 clients, 60 people" in good.output
        )
        assert f"{name}: token accepted" in good.output
    assert good.output.endswith("3 portals, 0 with problems\n")
    for sb in three_portals.values():
        assert await writes(sb) == {}
        received = await admin(sb, "GET", "/sandbox/requests")
        assert received["byRoute"] == {"GET /api/2.0/people/@self": 1}

    (tmp_path / "tokens" / "globex.token").unlink()
    text = path.read_text().replace('id = "initech"', 'id = "initech"\ntoken = "env:NOPE_{id}"')
    path.write_text(text)
    bad = await in_thread("validate", str(path), "--only", "globex,initech")
    assert bad.exit_code == 2, bad.output
    assert "globex: " in bad.output and "globex.token" in bad.output
    assert "initech: " in bad.output and "NOPE_initech, which is not set" in bad.output
    assert bad.output.endswith("2 portals, 2 with problems\n")


async def test_a_bad_fleet_file_exits_2_with_its_sentence(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[fleet]\nconcurrency = 'many'\n")
    result = await in_thread("run", str(path))
    assert result.exit_code == 2
    assert "concurrency must be a whole number" in result.output
