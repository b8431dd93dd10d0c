"""Bytes received: an 11,000-row run whose invitation answers list every pending user.

    python bench/bytes.py [--quick] [--clients N] [--people N] [--nameless-every K]

Generates 1,000 clients and 10,000 people, one in 8 without names (1,250 invited by e-mail),
and runs `bulk-onboard run` with its default options against a sandbox portal in its own
process, without latency or limits. The sandbox answers `POST people/invite` as the server
does (docspace-api.md 10.5): with every user of the portal whose activation is pending,
also those `POST people` created who never activated, so each invitation request receives
more the further the run has got. The tool asks for `fields=` on listings and on the
invitation (10.3) and sends invitations of people without names in full batches, up front.

Printed and saved in bench/results.json (`bytes`): bytes the tool received (summary.json
`requests.bytes_received`), requests, invitation requests, the tool's CPU seconds, wall
time, and the machine's load before and after.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from harness import (
    make_onboarding,
    measure,
    merge_results,
    read_summary,
    sandbox_process,
    table,
    tool_command,
    tool_env,
)

BEFORE_BYTES = 4.0e9  # the figure for this run before fields= and batching
TARGET_BYTES = 40e6


def load() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--nameless-every", type=int, default=8)
    args = parser.parse_args()
    if args.quick:
        args.clients, args.people = 100, 1000
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        data = make_onboarding(
            tmp / "input",
            args.clients,
            args.people,
            managers=40,
            nameless_every=args.nameless_every,
        )
        with sandbox_process("--rate-limit", "off") as sandbox:
            sandbox.admin("POST", "/sandbox/people", data.managers)
            sandbox.admin("DELETE", "/sandbox/requests")
            before = load()
            report_dir = tmp / "reports"
            command = tool_command(
                "run",
                *data.files,
                "--no-progress",
                "--log-format",
                "json",
                "--report-dir",
                str(report_dir),
            )
            run = measure(command, env=tool_env(sandbox))
            after = load()
            counters = sandbox.admin("GET", "/sandbox/requests")
            audit = sandbox.admin("GET", "/sandbox/audit")
        if run.exit_code not in (0, 1):
            raise RuntimeError(f"run exited {run.exit_code}: {run.stderr[-3000:]}")
        summary = read_summary(report_dir)
    received = int(summary["requests"]["bytes_received"])
    invites = counters["byRoute"].get("POST /api/2.0/people/invite", 0)
    result: dict[str, Any] = {
        "quick": args.quick,
        "sandbox": "own process, no latency, rate limit off; POST people/invite answers "
        "every activation-pending user (docspace-api.md 10.5)",
        "options": "defaults",
        "input": {
            "clients": data.clients,
            "people": data.people,
            "nameless": data.people - data.named,
            "rows": data.clients + data.people,
        },
        "bytes_received": received,
        "mb_received": round(received / 1e6, 2),
        "target_mb": TARGET_BYTES / 1e6,
        "before_mb": BEFORE_BYTES / 1e6,
        "requests": counters["total"],
        "invite_requests": invites,
        "pending_people_at_end": audit["counts"].get("pendingPeople"),
        "wall_s": round(run.wall_s, 2),
        "run_s": summary["duration_s"],
        "tool_cpu_s": round(run.cpu_s, 2),
        "statuses": {k: v for k, v in summary["statuses"].items() if v},
        "load": [before, after],
    }
    rows = data.clients + data.people
    print(
        table(
            f"bytes: {data.clients:,} clients + {data.people:,} people ({rows:,} rows, "
            f"{data.people - data.named:,} without names), default options; invitation "
            "answers list every pending user",
            ["measure", "value", "target"],
            [
                ["MB received", result["mb_received"], f"< {TARGET_BYTES / 1e6:g} (was 4,000)"],
                ["requests", result["requests"], ""],
                ["POST people/invite requests", invites, "batched"],
                ["invited people (status pending) at the end", result["pending_people_at_end"], ""],
                ["bytes received per request", round(received / max(1, counters["total"])), ""],
                ["wall s", result["wall_s"], ""],
                ["tool CPU s", result["tool_cpu_s"], ""],
                ["rows", ", ".join(f"{k} {v}" for k, v in result["statuses"].items()), ""],
            ],
        )
    )
    print(f"machine load (1-min average): {before} before, {after} after")
    merge_results("bytes", result)


if __name__ == "__main__":
    main()
