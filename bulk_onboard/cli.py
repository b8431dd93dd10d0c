"""The `bulk-onboard` command line: options in, exit code out. No business logic here."""

from __future__ import annotations

import click

from bulk_onboard import __version__
from bulk_onboard.sandbox.cli import sandbox_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulk-onboard")
def main() -> None:
    """Onboard clients and people into ONLYOFFICE DocSpace in bulk."""


main.add_command(sandbox_command)
