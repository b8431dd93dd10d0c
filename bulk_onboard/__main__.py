"""`python -m bulk_onboard`: the same as the `bulk-onboard` command."""

from bulk_onboard.cli.commands import main

if __name__ == "__main__":
    main()
