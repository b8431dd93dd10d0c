"""Every option of every command has its help text and is named in the README."""

from __future__ import annotations

from pathlib import Path

import click

from bulk_onboard.cli.commands import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _options() -> list[tuple[str, click.Option]]:
    return [
        (name, param)
        for name, command in main.commands.items()
        for param in command.params
        if isinstance(param, click.Option) and param.name != "help"
    ]


def test_every_option_has_help_text() -> None:
    assert [(name, o.opts) for name, o in _options() if not o.help] == []


def test_every_option_is_in_the_readme() -> None:
    missing = [
        (name, flag)
        for name, option in _options()
        for flag in option.opts
        if f"`{flag}" not in README and f" {flag}" not in README
    ]
    assert missing == []
