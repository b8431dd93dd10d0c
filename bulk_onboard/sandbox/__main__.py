"""`python -m bulk_onboard.sandbox`: the same as `bulk-onboard sandbox`."""

from bulk_onboard.sandbox.cli import sandbox_command

sandbox_command(prog_name="bulk-onboard sandbox")
