"""The fleet file: what it holds once read, and one sentence for each mistake, naming the
file, the key and what to do (a token written into it is refused and not repeated)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.errors import ConfigError
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.model import TokenSource

GOOD = """
[fleet]
reports = "nightly"
concurrency = 4
lease_seconds = 90
state = "redis://127.0.0.1:6379/1"
broker = "redis://127.0.0.1:6379/0"

[defaults]
playbook = "playbooks/{id}.toml"
token = "env:DOCSPACE_TOKEN_{id}"
input = ["exports/{id}/clients.csv", "exports/{id}/people.csv"]
rate = 20

[[portal]]
id = "acme"
url = "acme.onlyoffice.com/"

[[portal]]
id = "globex_2"
url = "https://globex.example.com"
token = "file:tokens/globex.token"
input = "globex.xlsx"
max_writes = 5
enabled = false
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def test_a_fleet_file_read_with_its_defaults_applied(tmp_path: Path) -> None:
    fleet = read_fleet(_write(tmp_path, GOOD))
    assert (fleet.reports, fleet.concurrency, fleet.lease_seconds) == (
        tmp_path / "nightly",
        4,
        90,
    )
    assert (fleet.visibility_timeout, fleet.max_attempts) == (3600, 3)
    acme, globex = fleet.portals
    assert acme.url == "https://acme.onlyoffice.com"
    assert acme.token == TokenSource("env", "DOCSPACE_TOKEN_acme")
    assert acme.inputs == (
        tmp_path / "exports/acme/clients.csv",
        tmp_path / "exports/acme/people.csv",
    )
    assert acme.playbook == tmp_path / "playbooks/acme.toml"
    assert acme.limits == {"rate": 20.0}
    assert globex.token == TokenSource("file", str(tmp_path / "tokens/globex.token"))
    assert globex.inputs == (tmp_path / "globex.xlsx",)
    assert globex.limits == {"rate": 20.0, "max_writes": 5}
    assert [p.id for p in fleet.chosen()] == ["acme"]  # globex is not enabled
    assert [p.id for p in fleet.chosen(["globex_2"])] == ["globex_2"]
    with pytest.raises(ConfigError, match="no portal nope in the fleet file"):
        fleet.chosen(["nope"])


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("concurrency = 4", "concurency = 4"), r"\[fleet\] has an unknown key 'concurency'"),
        (("concurrency = 4", "concurrency = 0"), r"concurrency must be a whole number from 1"),
        (('id = "acme"', 'id = "../acme"'), r"portal 1 needs an id of letters, digits"),
        (('id = "globex_2"', 'id = "acme"'), r"portal id 'acme' is given twice"),
        (('url = "acme.onlyoffice.com/"', 'url = "http://acme.example.com"'), r"plain http"),
        (('url = "acme.onlyoffice.com/"', 'url = "https://globex.example.com"'), "same url"),
        (("rate = 20", "rate = -1"), r"portal 'acme' rate must be a number above 0"),
        (("max_writes = 5", "max_writes = 2.5"), r"max_writes must be a whole number"),
        (('state = "redis', 'state = "memcached'), r"state must be a redis://"),
        (("[[portal]]", "[[portals]]"), r"unknown key 'portals'"),
        (("enabled = false", "enabled = 0"), r"enabled must be true or false"),
        (('input = "globex.xlsx"', "input = 3"), r"'globex_2' has no input"),
        (("[defaults]", "[defaults\n"), r"is not valid TOML: .*line \d+"),
    ],
)
def test_each_mistake_is_one_sentence_naming_file_and_key(
    tmp_path: Path, change: tuple[str, str], said: str
) -> None:
    path = _write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(ConfigError, match=said) as caught:
        read_fleet(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value).rstrip()


def test_a_token_written_into_the_fleet_file_is_refused_and_not_repeated(tmp_path: Path) -> None:
    token = "sk-" + "9f8e7d6c5b4a" * 3
    path = _write(tmp_path, GOOD.replace('"env:DOCSPACE_TOKEN_{id}"', f'"{token}"'))
    with pytest.raises(ConfigError, match="never the token itself") as caught:
        read_fleet(path)
    assert token not in str(caught.value)
    assert "portal 'acme' token" in str(caught.value)


def test_a_fleet_file_without_portals_or_token_or_unreadable_says_what_to_do(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"names no portal; add one \[\[portal\]\]"):
        read_fleet(_write(tmp_path, "[fleet]\n"))
    with pytest.raises(ConfigError, match="has no token; add token = "):
        read_fleet(_write(tmp_path, '[[portal]]\nid = "a"\nurl = "https://a.example.com"\n'))
    with pytest.raises(ConfigError, match="cannot be read"):
        read_fleet(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="is not UTF-8"):
        read_fleet(tmp_path / "latin1.toml")
