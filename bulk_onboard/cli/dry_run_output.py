"""What `plan --against-portal` prints (as lines, or as JSON with --json): per row what would be created and what exists, then the
problems and the writes the run needs against the portal's daily budget."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bulk_onboard.cli.plan_output import origin_json
from bulk_onboard.engine.dry_run import DAILY_WRITE_BUDGET, DryRun
from bulk_onboard.model.outputs import changes_in, changes_text
from bulk_onboard.model.words import counted
from bulk_onboard.runs.report import FINE_STATUSES, OK_STATUSES, RowResult, Status

_WORDS = {"created": "create", "changed": "change", "found": "exists", "journal": "exists"}


def dry_run_lines(run: DryRun) -> list[str]:
    """Per row: what would be created and what exists; then problems and the write budget."""
    lines: list[str] = []
    for result in run.results:
        lines.extend(_row_lines(result))
    counts = Counter(r.status for r in run.results)
    skipped = counts[Status.SKIPPED]
    lines.append("")
    lines.append(
        f"{len(run.results)} rows: {counts[Status.CREATED]} would be created, "
        f"{counts[Status.UPDATED]} completed, {counts[Status.UNCHANGED]} already onboarded, "
        + (f"{skipped} skipped (taken back by undo), " if skipped else "")
        + f"{len(run.problems)} with problems"
    )
    lines.extend(_budget_lines(run))
    return lines


def _row_lines(result: RowResult) -> list[str]:
    """One row's verdict, then what each of its steps would do."""
    where = result.origin.describe()
    if result.status in OK_STATUSES:
        verdict = {
            "created": "would be created",
            "updated": "would be completed",
            "unchanged": "already onboarded",
        }[result.status.value]
    elif result.status is Status.SKIPPED:
        verdict = f"skipped: {result.note}"
    else:
        verdict = f"problem at {result.failed_step}: {result.error}"
    lines = [f"{result.row_key}  ({where})  {verdict}"]
    for step, outcome in result.outcomes.items():
        lines.append(f"  {step:<40} {_WORDS.get(outcome, outcome)}")
    changes = changes_in(result.outputs)
    if changes:
        lines.append(f"  {'changes':<40} {changes_text(changes)}")
    return lines


def _budget_lines(run: DryRun) -> list[str]:
    """The writes the run needs against the portal's daily budget, and what is known of it."""
    lines = [
        f"the run needs {run.write_total} write requests (POST+PUT); the portal allows "
        f"{DAILY_WRITE_BUDGET:,} a day per user, and how many are spent today only the portal "
        f"knows; this check sent {counted(run.reads, 'read')} and no writes"
    ]
    if run.budget_refused_now:
        lines.append(
            "the portal refused requests for the day during this check: the run would defer "
            "its writes until the budget renews"
        )
    elif run.budget_refused_at is not None:
        lines.append(
            f"the last run against this portal was refused writes for the day at "
            f"{run.budget_refused_at:%Y-%m-%d %H:%M} UTC: the budget may not have renewed yet"
        )
    if run.write_total > DAILY_WRITE_BUDGET:
        lines.append(
            "more than one day's budget: the run will defer the rest; continue it the next day "
            "with `bulk-onboard run --resume RUN`"
        )
    return lines


def dry_run_json(checked: DryRun) -> dict[str, Any]:
    """`plan --against-portal --json`: per row what exists and what would be made, the
    problems, and the writes the run needs against the portal's daily budget."""
    counts = Counter(r.status.value for r in checked.results)
    return {
        "rows": [
            {
                "row": r.row_key,
                "kind": r.kind,
                **origin_json(r.origin),
                "status": r.status.value,
                "problem": None
                if r.status in FINE_STATUSES
                else {"step": r.failed_step, "error": r.error},
                "note": r.note,
                "steps": dict(r.outcomes),
                "changes": [c.as_dict() for c in changes_in(r.outputs)],
            }
            for r in checked.results
        ],
        "summary": {
            "rows": len(checked.results),
            "would_be_created": counts["created"],
            "would_be_completed": counts["updated"],
            "already_onboarded": counts["unchanged"],
            "skipped": counts["skipped"],
            "with_problems": len(checked.problems),
        },
        "writes": {
            "needed": checked.write_total,
            "by_request": dict(sorted(checked.writes.items())),
            "daily_budget": DAILY_WRITE_BUDGET,
            "spent_today": None,  # only the portal knows
            "refused_during_check": checked.budget_refused_now,
            "last_refused_at": checked.budget_refused_at.isoformat()
            if checked.budget_refused_at
            else None,
        },
        "reads_sent": checked.reads,
    }
