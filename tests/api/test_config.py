"""Settings: where the token and portal come from, and what is refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bulk_onboard.backoff import RetryPolicy
from bulk_onboard.cli.options import with_playbook_limits
from bulk_onboard.config import Secret, Settings, build_settings, normalize_portal_url
from bulk_onboard.errors import ConfigError
from bulk_onboard.playbook.reader import load_playbook

TOKEN = "sk-abcdef0123456789"
ENV = {"DOCSPACE_URL": "https://acme.onlyoffice.com", "DOCSPACE_TOKEN": TOKEN}


def test_defaults_from_the_environment() -> None:
    settings = build_settings(ENV)
    assert settings.portal_url == "https://acme.onlyoffice.com"
    assert settings.api_url == "https://acme.onlyoffice.com/api/2.0"
    assert settings.token.reveal() == TOKEN
    assert settings.requests_per_second is None  # adaptive
    assert settings.max_read_inflight == 40
    assert settings.max_write_inflight is None  # 15, the server's cap, until a refusal names one
    assert settings.rate_window == 60.0  # the server's constant window
    assert settings.outage_wait == 300.0
    assert settings.retry == RetryPolicy()
    assert settings.report_dir == Path("reports")
    assert settings.log_format == "auto"


def test_the_token_never_shows_in_repr_or_str() -> None:
    settings = build_settings(ENV)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert repr(settings.token) == "Secret('********')"
    assert str(settings.token) == "********"
    assert f"{settings.token}" == "********"
    assert Secret("a") == Secret("a") != Secret("b")


def test_explicit_options_win_over_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("  sk-fromfile0000000000\n", encoding="utf-8")
    settings = build_settings(
        ENV,
        portal="https://other.example.com/",
        token_file=token_file,
        concurrency=3,
        requests_per_second=5,
        max_read_inflight=20,
        max_write_inflight=4,
        report_dir=tmp_path / "out",
        log_format="JSON",
        request_timeout=30,
    )
    assert settings.portal_url == "https://other.example.com"
    assert settings.token.reveal() == "sk-fromfile0000000000"
    assert (settings.concurrency, settings.requests_per_second) == (3, 5.0)
    assert (settings.max_read_inflight, settings.max_write_inflight) == (20, 4)
    assert settings.report_dir == tmp_path / "out"
    assert settings.log_format == "json"
    assert settings.request_timeout == 30.0


def test_missing_token_names_both_ways_to_give_it() -> None:
    with pytest.raises(ConfigError) as info:
        build_settings({"DOCSPACE_URL": "https://a.example.com"})
    assert "DOCSPACE_TOKEN" in str(info.value)
    assert "--token-file" in str(info.value)
    with pytest.raises(ConfigError, match="DOCSPACE_TOKEN"):
        build_settings({**ENV, "DOCSPACE_TOKEN": "   "})


def test_token_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the token file"):
        build_settings(ENV, token_file=tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--token-file"):
        build_settings(ENV, token_file=empty)
    two = tmp_path / "two"
    two.write_text("sk-one\nsk-two\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="alone") as info:
        build_settings(ENV, token_file=two)
    assert "sk-one" not in str(info.value)


def test_missing_portal() -> None:
    with pytest.raises(ConfigError, match=r"DOCSPACE_URL.*--portal"):
        build_settings({"DOCSPACE_TOKEN": TOKEN})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.onlyoffice.com", "https://acme.onlyoffice.com"),
        ("https://ACME.example.com/", "https://acme.example.com"),
        ("https://acme.example.com/api/2.0/", "https://acme.example.com"),
        ("https://example.com/docspace", "https://example.com/docspace"),
        ("http://localhost:8092", "http://localhost:8092"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://127.5.6.7", "http://127.5.6.7"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
    ],
)
def test_portal_urls_accepted(raw: str, expected: str) -> None:
    assert normalize_portal_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("http://acme.example.com", "use https://"),
        ("http://10.0.0.5:8080", "use https://"),
        ("http://localhost.evil.com", "use https://"),
        ("ftp://acme.example.com", "https://"),
        ("https://user:pw@acme.example.com", "user name or password"),
        ("https://acme.example.com/?token=x", "query"),
        ("https://", "no host"),
        ("https://acme.example.com:99999", "port"),
        ("127.0.0.1:8092", "'127.0.0.1:8092' has no scheme: write http://127.0.0.1:8092 for a"),
        ("localhost:8092/", "has no scheme"),
    ],
)
def test_portal_urls_refused(raw: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        normalize_portal_url(raw)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("concurrency", 0),
        ("requests_per_second", 0),
        ("requests_per_second", 1001),
        ("max_read_inflight", 51),
        ("max_write_inflight", 101),
        ("outage_wait", -1),
        ("max_write_inflight", 0),
        ("request_timeout", 0.1),
        ("log_format", "xml"),
    ],
)
def test_out_of_range_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(ConfigError):
        build_settings(ENV, **{option: value})  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    settings = Settings(portal_url="https://a.example.com", token=Secret(TOKEN))
    with pytest.raises(AttributeError):
        settings.portal_url = "https://b.example.com"  # type: ignore[misc]


def test_the_rate_window_is_60_s_unless_given_within_bounds() -> None:
    assert build_settings(ENV, rate_window=20).rate_window == 20.0
    for bad in (0, 0.05, 3601, True):
        with pytest.raises(ConfigError, match="rate window"):
            build_settings(ENV, rate_window=bad)


def test_the_rate_window_comes_from_the_command_line_else_the_playbook(tmp_path: Path) -> None:
    book = tmp_path / "playbook.toml"
    book.write_text("[limits]\nrate_window = 30\n", encoding="utf-8")
    playbook = load_playbook(book)
    assert playbook.rate_window == 30.0
    settings = build_settings(ENV)
    assert with_playbook_limits(settings, {}, playbook).rate_window == 30.0
    given = replace(settings, rate_window=10.0)
    assert with_playbook_limits(given, {"rate_window": 10.0}, playbook).rate_window == 10.0
    assert load_playbook(None).rate_window is None
    book.write_text("[limits]\nrate_window = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="rate_window"):
        load_playbook(book)
