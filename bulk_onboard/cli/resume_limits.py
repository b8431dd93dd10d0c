"""`run --resume` keeps the limits the run was given (--rate, --concurrency, --max-writes)
unless new ones are given: the run's summary.json has them (its "limits"), written at every
end of the run, a stop included. A run killed before it wrote one resumes with the defaults."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulk_onboard.config import Settings

# option name -> (Settings field, summary.json limits key)
KEPT = {
    "rate": ("requests_per_second", "requests_per_second"),
    "concurrency": ("concurrency", "concurrency"),
    "max_writes": ("max_write_inflight", "max_write_inflight"),
}


def run_limits(run_dir: Path) -> dict[str, Any]:
    """The limits the run in `run_dir` kept, by option name; those it left to be found
    (None) are left out."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        limits = summary.get("limits") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    found = {option: limits.get(key) for option, (_, key) in KEPT.items()}
    return {option: value for option, value in found.items() if isinstance(value, int | float)}


def keep_run_limits(
    settings: Settings, options: dict[str, Any], run_dir: Path
) -> tuple[Settings, list[str]]:
    """The settings with the run's own limits where the command line gives none; the
    options kept that differ from today's, as `--rate 5` words, for the person resuming."""
    kept = {
        option: value
        for option, value in run_limits(run_dir).items()
        if options.get(option) is None and value != getattr(settings, KEPT[option][0])
    }
    changes = {KEPT[option][0]: value for option, value in kept.items()}
    said = [f"--{option.replace('_', '-')} {value:g}" for option, value in kept.items()]
    return replace(settings, **changes), said
