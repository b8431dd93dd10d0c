"""Throughput: bulk-onboard against the example scripts, and against the portal's rate limit.

    python bench/throughput.py [--quick] [--clients N] [--people N] [--target-seconds S]

Generates an onboarding (default 150 clients, 400 people), starts sandbox portals with 40 ms
± 10 ms latency per request in child processes and measures:

(a) speed, rate limit off: the sequential baseline (bench/baseline.py) and `bulk-onboard run
    --rate 1000 --concurrency 16`, then the same with `--max-writes 15` (the portal's own
    cap), each on a fresh portal of the same configuration; the speedup is the baseline's
    wall time over bulk-onboard's, both whole processes. Both must leave the same numbers of
    rooms, folders, files, people, shares, links and mails. The phases of the run come from
    its JSON log; the floor is its writes times the baseline's time per request over the
    writes allowed in flight.
(b) utilisation, the real limits scaled so the run takes about --target-seconds: the real
    60-second sliding window with its limit L scaled from 1,500 (L chosen from the request
    count of (a)), the real in-flight caps (50 GET, 15 writes), and bulk-onboard's --rate at
    the same 96 % of the allowed rate that its default (24/s) keeps under 1,500 a minute.
    Utilisation = requests the portal accepted per second of the run ÷ L/60. 429s and
    failed rows are counted.
(c) cost per row, on one portal without latency: the clients alone, then the people with
    names and no room alone, then both files (what is left: invitations and memberships),
    then both files again: the rerun, which must write nothing and mail nobody.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from baseline import run_baseline
from harness import (
    Measured,
    Onboarding,
    SandboxProcess,
    make_onboarding,
    measure,
    merge_results,
    read_report,
    read_summary,
    sandbox_process,
    table,
    tool_command,
    tool_env,
    write_requests,
)

LATENCY = ["--latency-ms", "40", "--jitter-ms", "10"]
MARGIN = 24.0 / 25.0  # bulk-onboard's default rate against the portal's 1,500 a minute


def run_tool(
    sandbox: SandboxProcess, files: list[str], report_dir: Path, *options: str
) -> tuple[Measured, dict[str, Any]]:
    """`bulk-onboard run FILES` in a child process; its measurements and summary.json."""
    command = tool_command(
        "run",
        *files,
        "--report-dir",
        str(report_dir),
        "--no-progress",
        "--log-format",
        "json",
        *options,
    )
    done = measure(command, env=tool_env(sandbox))
    try:
        summary = read_summary(report_dir)
    except (OSError, RuntimeError, ValueError):
        summary = None
    if done.exit_code not in (0, 1) or summary is None:
        raise RuntimeError(f"bulk-onboard run exited {done.exit_code}: {done.stderr[-3000:]}")
    return done, summary


def phases(log: str) -> dict[str, float]:
    """Seconds of each phase of a run, from its JSON log: people (until the last person step),
    clients (until the last client row), memberships and report (until run_finished)."""
    started = last_person = last_client = finished = None
    for line in log.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        at = datetime.fromisoformat(event.get("timestamp", "1970-01-01T00:00:00+00:00"))
        name, row = event.get("event"), str(event.get("row", ""))
        if name == "run_started":
            started = at
        elif name in ("step_done", "step_finished") and event.get("step") == "person":
            last_person = at
        elif name == "row_finished" and row.startswith("client:"):
            last_client = at
        elif name == "run_finished":
            finished = at
    if None in (started, last_person, last_client, finished):
        return {}
    assert started and last_person and last_client and finished
    return {
        "people_s": round((last_person - started).total_seconds(), 2),
        "clients_s": round((last_client - last_person).total_seconds(), 2),
        "memberships_and_report_s": round((finished - last_client).total_seconds(), 2),
    }


def speed(data: Onboarding, tmp: Path) -> dict[str, Any]:
    """(a): the baseline and bulk-onboard on identical fresh portals, rate limit off."""
    options = ["--rate-limit", "off", *LATENCY]
    with sandbox_process(*options) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        base = run_baseline(
            sandbox.url, sandbox.token, sandbox.template_ids, data.clients_csv, data.users_csv
        )
        base_counters = sandbox.admin("GET", "/sandbox/requests")
        base_audit = sandbox.admin("GET", "/sandbox/audit")
    with sandbox_process(*options) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        tool, summary = run_tool(
            sandbox, data.files, tmp / "speed", "--rate", "1000", "--concurrency", "16"
        )
        counters = sandbox.admin("GET", "/sandbox/requests")
        audit = sandbox.admin("GET", "/sandbox/audit")
    with sandbox_process(*options) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        wide, wide_summary = run_tool(
            sandbox,
            data.files,
            tmp / "speed-15",
            "--rate",
            "1000",
            "--concurrency",
            "16",
            "--max-writes",
            "15",
        )
        wide_counters = sandbox.admin("GET", "/sandbox/requests")
    kinds = ("rooms", "folders", "files", "people", "pendingPeople", "shares", "links", "mails")
    same = all(base_audit["counts"][k] == audit["counts"][k] for k in kinds)
    per_request = base["wall_s"] / base_counters["total"]
    writes = write_requests(counters)
    return {
        "baseline": {
            "wall_s": base["wall_s"],
            "requests": base_counters["total"],
            "writes": write_requests(base_counters),
            "failed_requests": sum(base["failed"].values()),
            "rows": base["rows"],
            "portal_counts": base_audit["counts"],
        },
        "bulk_onboard": {
            "wall_s": round(tool.wall_s, 3),
            "run_s": summary["duration_s"],
            "requests": counters["total"],
            "writes": writes,
            "statuses": summary["statuses"],
            "portal_counts": audit["counts"],
            "duplicates": sum(len(v) for v in audit["duplicates"].values()),
            "peak_inflight": counters["peakInflight"],
        },
        "same_portal_counts": same,
        "speedup": round(base["wall_s"] / tool.wall_s, 2),
        "speedup_run_only": round(base["wall_s"] / summary["duration_s"], 2),
        "phases": phases(tool.stderr),
        "baseline_seconds_per_request": round(per_request, 4),
        "write_floor_s": round(writes * per_request / 10, 2),
        "write_inflight_15": {
            "wall_s": round(wide.wall_s, 3),
            "run_s": wide_summary["duration_s"],
            "requests": wide_counters["total"],
            "statuses": wide_summary["statuses"],
            "peak_inflight": wide_counters["peakInflight"],
            "speedup": round(base["wall_s"] / wide.wall_s, 2),
        },
    }


def utilisation(data: Onboarding, tmp: Path, requests: int, target_s: float) -> dict[str, Any]:
    """(b): under a sliding window scaled so the run takes about target_s seconds."""
    window_s = 60.0  # the real window; only its limit is scaled
    allowed = requests / target_s
    limit = max(1, math.floor(allowed * window_s))
    allowed = limit / window_s
    rate = round(allowed * MARGIN, 3)
    options = [
        "--rate-limit",
        "on",
        "--window-limit",
        str(limit),
        "--window-seconds",
        f"{window_s:g}",
        *LATENCY,
    ]
    with sandbox_process(*options) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        tool, summary = run_tool(sandbox, data.files, tmp / "limited", "--rate", str(rate))
        counters = sandbox.admin("GET", "/sandbox/requests")
    rejected_429 = counters["byStatus"].get("429", 0)
    accepted = counters["total"] - rejected_429
    achieved = accepted / summary["duration_s"]
    statuses = summary["statuses"]
    return {
        "window": {"limit": limit, "seconds": window_s, "allowed_rps": round(allowed, 3)},
        "rate_option": rate,
        "run_s": summary["duration_s"],
        "wall_s": round(tool.wall_s, 3),
        "requests": counters["total"],
        "accepted": accepted,
        "achieved_rps": round(achieved, 3),
        "utilisation": round(achieved / allowed, 4),
        "utilisation_process": round(accepted / tool.wall_s / allowed, 4),
        "http_429": rejected_429,
        "rejected": counters["rejected"],
        "client_rate_limited": summary["requests"]["rate_limited"],
        "retries": summary["requests"]["retries"],
        "failed_rows": statuses["failed"] + statuses["interrupted"],
        "statuses": statuses,
        "peak_inflight": counters["peakInflight"],
    }


def named_without_room(source: Path, target: Path) -> int:
    """Copy the people with names and no room: each costs one POST people, nothing else."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [row for row in rows if row["first_name"] and not row["room"]]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return len(kept)


def costs(data: Onboarding, tmp: Path) -> dict[str, Any]:
    """(c), on one portal without latency: the clients alone, then the people with names and
    no room alone, then both files (what is left: invitations and room memberships), then
    both files again: the rerun."""
    named_csv = tmp / "named.csv"
    named = named_without_room(data.users_csv, named_csv)
    phases: dict[str, dict[str, Any]] = {}
    with sandbox_process("--rate-limit", "off") as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        mails = 0
        for name, files in (
            ("clients", [str(data.clients_csv)]),
            ("named_people", [str(named_csv)]),
            ("rest", data.files),
            ("rerun", data.files),
        ):
            sandbox.admin("DELETE", "/sandbox/requests")
            _, summary = run_tool(sandbox, files, tmp / f"cost-{name}", "--rate", "1000")
            counters = sandbox.admin("GET", "/sandbox/requests")
            outbox = sandbox.admin("GET", "/sandbox/outbox")["count"]
            phases[name] = {
                "rows": summary["rows"],
                "statuses": {k: v for k, v in summary["statuses"].items() if v},
                "requests": counters["total"],
                "writes": write_requests(counters),
                "by_route": counters["byRoute"],
                "mails": outbox - mails,
                "max_row_requests": max(
                    int(r["requests"]) for r in read_report(tmp / f"cost-{name}")
                ),
            }
            mails = outbox
        audit = sandbox.admin("GET", "/sandbox/audit")
    clients, people, rest, rerun = (phases[k] for k in ("clients", "named_people", "rest", "rerun"))
    share = "PUT /api/2.0/files/rooms/{id}/share"
    return {
        "clients": data.clients,
        "named_people_without_room": named,
        "requests_per_client_row": round(clients["requests"] / data.clients, 3),
        "writes_per_client_row": round(clients["writes"] / data.clients, 3),
        "max_requests_of_a_client_row": clients["max_row_requests"],
        "requests_per_named_person": round(people["requests"] / named, 3),
        "writes_per_named_person": round(people["writes"] / named, 3),
        "rest": {
            "people": data.people - named,
            "nameless": data.people - data.named,
            "with_room": data.with_room,
            "rooms_joined": len({r["room"] for r in _rows(data.users_csv) if r["room"]}),
            "requests": rest["requests"],
            "writes": rest["writes"],
            "post_people": rest["by_route"].get("POST /api/2.0/people", 0),
            "invite_requests": rest["by_route"].get("POST /api/2.0/people/invite", 0),
            "share_requests": rest["by_route"].get(share, 0),
        },
        "rerun_rows": rerun["rows"],
        "rerun_requests": rerun["requests"],
        "rerun_writes": rerun["writes"],
        "rerun_requests_per_row": round(rerun["requests"] / rerun["rows"], 3),
        "rerun_mails": rerun["mails"],
        "rerun_statuses": rerun["statuses"],
        "duplicates": sum(len(v) for v in audit["duplicates"].values()),
        "phases": phases,
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--target-seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.quick:
        args.clients, args.people, args.target_seconds = 20, 60, 10.0
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        data = make_onboarding(tmp / "input", args.clients, args.people)
        a = speed(data, tmp)
        b = utilisation(data, tmp, a["bulk_onboard"]["requests"], args.target_seconds)
        c = costs(data, tmp)
    rows = data.clients + data.people
    base, tool = a["baseline"], a["bulk_onboard"]
    lines: list[list[object]] = [
        ["(a) baseline wall time (s), limits off", f"{base['wall_s']:.1f}", ""],
        ["(a) baseline requests (writes)", f"{base['requests']} ({base['writes']})", ""],
        ["(a) bulk-onboard wall time (s), limits off", f"{tool['wall_s']:.1f}", ""],
        ["(a) bulk-onboard requests (writes)", f"{tool['requests']} ({tool['writes']})", ""],
        [
            "(a) same rooms, folders, files, people, shares, links, mails",
            a["same_portal_counts"],
            "True",
        ],
        ["(a) speedup (whole processes)", f"{a['speedup']:.1f}x", ">= 10x"],
        [
            "(a) bulk-onboard phases: people / clients / rest (s)",
            " / ".join(f"{v:.1f}" for v in a["phases"].values()),
            "",
        ],
        ["(a) floor: writes x latency / 10 in flight (s)", a["write_floor_s"], ""],
        [
            "(a) --max-writes 15 (the portal's cap): wall (s)",
            f"{a['write_inflight_15']['wall_s']:.1f}",
            "",
        ],
        [
            "(a) --max-writes 15: speedup",
            f"{a['write_inflight_15']['speedup']:.1f}x",
            ">= 10x",
        ],
        ["(b) allowed by the portal (req/s)", b["window"]["allowed_rps"], ""],
        ["(b) bulk-onboard --rate (req/s)", b["rate_option"], ""],
        ["(b) run time (s)", b["run_s"], ""],
        ["(b) achieved (req/s)", b["achieved_rps"], ""],
        ["(b) utilisation", f"{b['utilisation']:.1%}", ">= 95%"],
        ["(b) 429 answers / failed rows", f"{b['http_429']} / {b['failed_rows']}", "0 / 0"],
        ["(c) requests per fresh client row", c["requests_per_client_row"], "8 + look-ups"],
        ["(c) writes per fresh client row", c["writes_per_client_row"], "<= 8"],
        ["(c) requests per new named person", c["requests_per_named_person"], "1 + look-ups"],
        ["(c) writes per new named person", c["writes_per_named_person"], "1"],
        [
            f"(c) invites for {c['rest']['nameless']} nameless people",
            c["rest"]["invite_requests"],
            "batched",
        ],
        [
            f"(c) share requests for {c['rest']['rooms_joined']} rooms joined",
            c["rest"]["share_requests"],
            "1 per room",
        ],
        ["(c) rerun: writes", c["rerun_writes"], "0"],
        ["(c) rerun: requests per row (look-ups)", c["rerun_requests_per_row"], ""],
        ["(c) rerun: mails sent", c["rerun_mails"], "0"],
    ]
    print(
        table(
            f"throughput: {data.clients} clients + {data.people} people ({rows} rows), "
            "40 ms ± 10 ms latency",
            ["measure", "value", "target"],
            lines,
        )
    )
    merge_results(
        "throughput",
        {
            "quick": args.quick,
            "input": {
                "clients": data.clients,
                "people": data.people,
                "named": data.named,
                "with_room": data.with_room,
                "managers": len(data.managers),
            },
            "latency": "40 ms ± 10 ms per request",
            "speed": a,
            "utilisation": b,
            "costs": c,
        },
    )


if __name__ == "__main__":
    main()
