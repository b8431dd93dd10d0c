"""Throughput: bulk-onboard with its default options on four portals, against the scripts.

    python bench/throughput.py [--quick] [--clients N] [--people N]

Generates an onboarding (default 150 clients, 400 people) and starts sandbox portals in child
processes, each answering every request in 100 ms ± 30 ms (70 ms + up to 60 ms at random):

(a) the sequential example scripts (bench/baseline.py) once, on a portal without a limiter;
(b) `bulk-onboard run` with its default options (the figures a user gets), and with the
    options tuned by hand for that portal, on a fresh portal of each shape:
      no limiter          the stock self-hosted configuration (docspace-api.md section 7)
      100/s window        a sliding window of 100 requests per second, 15 writes in flight
      1,500/min shape     the real 1,500-a-minute window scaled to 300 per 12 s
      write cap 4         4 writes in flight, refused with header-less 429s
    then the default options on a portal without a limiter that is down for 20 s mid-run
    (its listening socket closed: POST /sandbox/outage).
    Each row: wall time of the process, speedup over (a), utilisation (requests the portal
    accepted per second of the run over the window's allowance L/W), 429s as a share of the
    requests, failed rows (failed + interrupted), bytes received, and how the run's limits
    ended (summary.json `requests.limits`); with a window also "strict": the shortest time
    the window allows for the accepted requests over the run's time; "own pace": the same
    when the run cannot send faster than it did without a limiter (the full windows, then the
    rest at that pace); "sending": the utilisation over the time requests were being sent
    (the run's phases, without its start and the report writing). The default run and the scripts
    must leave the same numbers of rooms, folders, files, people, shares and links.
(c) cost per row, on one portal without latency: the clients alone, then the people with
    names and no room alone, then both files (what is left: invitations and memberships),
    then both files again: the rerun, which must write nothing and mail nobody.

The machine's load (`os.getloadavg()`) is recorded before and after each run: the figures
are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import tempfile
import time
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

LATENCY = ["--latency-ms", "70", "--jitter-ms", "60"]  # 100 ms ± 30 ms
OUTAGE_SECONDS = 20.0
BIG = "1000000000"  # a window limit nothing reaches: only the in-flight caps refuse
# What the scripts and the tool must both leave. Not mails: the tool mails each new person once
# (docspace-api.md 10.8), the scripts mail people who join a room a second time.
KINDS = ("rooms", "folders", "files", "people", "pendingPeople", "shares", "links")


# name: (sandbox options, (limit, window seconds) or None, tuned run options, targets)
PORTALS: dict[str, tuple[list[str], tuple[int, float] | None, list[str], dict[str, str]]] = {
    "no limiter": (
        ["--rate-limit", "off"],
        None,
        ["--rate", "1000", "--concurrency", "16", "--max-writes", "15"],
        {"speedup": ">= 10x", "failed": "0"},
    ),
    "100/s window, 15 writes": (
        ["--rate-limit", "on", "--window-limit", "100", "--window-seconds", "1"],
        (100, 1.0),
        ["--rate", "96"],
        {"utilisation": ">= 95%", "share_429": "<= 3%", "failed": "0"},
    ),
    "1,500/min shape: 300 per 12 s": (
        ["--rate-limit", "on", "--window-limit", "300", "--window-seconds", "12"],
        (300, 12.0),
        ["--rate", "24"],
        {"utilisation": ">= 97%", "failed": "0"},
    ),
    "write cap 4, header-less 429s": (
        ["--rate-limit", "on", "--window-limit", BIG, "--max-write-inflight", "4"],
        None,
        ["--max-writes", "4"],
        {"share_429": "<= 5%", "failed": "0", "vs_tuned": "<= 1.3x"},
    ),
}


def load() -> float:
    return round(os.getloadavg()[0], 2)


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
    if done.exit_code not in (0, 1, 6) or summary is None:
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


def baseline(data: Onboarding) -> dict[str, Any]:
    """(a): the sequential scripts on a portal without a limiter."""
    with sandbox_process("--rate-limit", "off", *LATENCY) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        before = load()
        base = run_baseline(
            sandbox.url, sandbox.token, sandbox.template_ids, data.clients_csv, data.users_csv
        )
        counters = sandbox.admin("GET", "/sandbox/requests")
        audit = sandbox.admin("GET", "/sandbox/audit")
    return {
        "wall_s": base["wall_s"],
        "requests": counters["total"],
        "writes": write_requests(counters),
        "failed_requests": sum(base["failed"].values()),
        "rows": base["rows"],
        "portal_counts": audit["counts"],
        "load": [before, load()],
    }


def one_run(
    data: Onboarding,
    tmp: Path,
    name: str,
    portal: list[str],
    window: tuple[int, float] | None,
    options: list[str],
    outage_after: float | None = None,
) -> dict[str, Any]:
    """bulk-onboard on a fresh portal of this shape; the row's figures."""
    with sandbox_process(*portal, *LATENCY) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        if outage_after is not None:
            body = {"seconds": OUTAGE_SECONDS, "delay": outage_after}
            sandbox.admin("POST", "/sandbox/outage", body)
        before = load()
        tool, summary = run_tool(sandbox, data.files, tmp / name, *options)
        if outage_after is not None:
            wait_until_up(sandbox)
        counters = sandbox.admin("GET", "/sandbox/requests")
        audit = sandbox.admin("GET", "/sandbox/audit")
    refused = counters["byStatus"].get("429", 0)
    accepted = counters["total"] - refused
    statuses = summary["statuses"]
    row: dict[str, Any] = {
        "options": options,
        "wall_s": round(tool.wall_s, 3),
        "run_s": summary["duration_s"],
        "requests": counters["total"],
        "writes": write_requests(counters),
        "http_429": refused,
        "share_429": round(refused / max(1, counters["total"]), 4),
        "rejected": counters["rejected"],
        "failed_rows": statuses["failed"] + statuses["interrupted"],
        "statuses": statuses,
        "portal_counts": audit["counts"],
        "duplicates": sum(len(v) for v in audit["duplicates"].values()),
        "peak_inflight": counters["peakInflight"],
        "bytes_received": summary["requests"]["bytes_received"],
        "invite_requests": counters["byRoute"].get("POST /api/2.0/people/invite", 0),
        "limits": summary["requests"].get("limits"),
        "phases": phases(tool.stderr),
        "load": [before, load()],
        "problems": [
            {k: r.get(k) for k in ("file", "line", "kind", "status", "failed_step", "error")}
            for r in read_report(tmp / name)
            if r.get("status") in ("failed", "interrupted")
        ][:5],
    }
    if window is not None:
        limit, seconds = window
        allowed = limit / seconds
        row["allowed_rps"] = round(allowed, 3)
        row["achieved_rps"] = round(accepted / summary["duration_s"], 3)
        row["utilisation"] = round(accepted / summary["duration_s"] / allowed, 4)
        # stricter: the shortest time the window allows for these requests (a full window's
        # allowance may go at once, so N need (ceil(N / L) - 1) windows) over the run's time
        ideal = (math.ceil(accepted / limit) - 1) * seconds
        row["ideal_over_run"] = round(ideal / summary["duration_s"], 4)
        row["ideal_s"] = ideal
        row["accepted"] = accepted
        # the same over the time requests were being sent (first phase's start to the last
        # one's end): without the run's start and its report writing
        spans = [p for p in (summary.get("timeline") or {}).get("phases", []) if p.get("end_s")]
        if spans:
            sending = max(p["end_s"] for p in spans) - min(p["start_s"] for p in spans)
            row["sending_s"] = round(sending, 3)
            row["utilisation_while_sending"] = round(accepted / sending / allowed, 4)
    return row


def demand_bound(row: dict[str, Any], window: tuple[int, float], rate: float) -> None:
    """The shortest run the window allows when the run cannot send faster than `rate` (what
    it reached without a limiter): the full windows, then what is left at that rate."""
    limit, seconds = window
    accepted = row["accepted"]
    full = math.ceil(accepted / limit) - 1
    bound = max(full * seconds + (accepted - full * limit) / rate, accepted / rate)
    row["ideal_at_own_pace_s"] = round(bound, 3)
    row["ideal_at_own_pace_over_run"] = round(bound / row["run_s"], 4)


def wait_until_up(sandbox: SandboxProcess, seconds: float = 60.0) -> None:
    """After a run that outlived nothing: the portal may still be down; wait for it."""
    until = time.monotonic() + seconds
    while True:
        try:
            if not sandbox.admin("GET", "/sandbox/outage")["down"]:
                return
        except OSError:
            pass
        if time.monotonic() > until:
            raise RuntimeError("the sandbox did not come back after its outage")
        time.sleep(0.5)


def portals(data: Onboarding, tmp: Path, base: dict[str, Any]) -> dict[str, Any]:
    """(b): every portal shape, default options then tuned ones; then the outage."""
    found: dict[str, Any] = {}
    for index, (name, (portal, window, tuned, targets)) in enumerate(PORTALS.items()):
        default = one_run(data, tmp, f"p{index}-default", portal, window, [])
        hand = one_run(data, tmp, f"p{index}-tuned", portal, window, tuned)
        for row in (default, hand):
            row["speedup"] = round(base["wall_s"] / row["wall_s"], 2)
        found[name] = {"default": default, "tuned": hand, "targets": targets}
    reference = found["no limiter"]["default"]
    pace = reference["requests"] / reference["run_s"]
    for name, (_, window, _, _) in PORTALS.items():
        if window is not None:
            for kind in ("default", "tuned"):
                demand_bound(found[name][kind], window, pace)
    outage = one_run(
        data,
        tmp,
        "outage",
        ["--rate-limit", "off"],
        None,
        [],
        outage_after=round(reference["run_s"] / 2, 1),
    )
    outage["speedup"] = round(base["wall_s"] / outage["wall_s"], 2)
    outage["longer_than_no_outage_s"] = round(outage["wall_s"] - reference["wall_s"], 2)
    found["outage"] = outage
    return found


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


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def portal_lines(base: dict[str, Any], found: dict[str, Any]) -> list[list[object]]:
    lines: list[list[object]] = []
    for name in PORTALS:
        entry = found[name]
        targets = entry["targets"]
        for kind in ("default", "tuned"):
            row = entry[kind]
            target = ", ".join(f"{k} {v}" for k, v in targets.items()) if kind == "default" else ""
            if kind == "default" and "vs_tuned" in targets:
                ratio = row["wall_s"] / entry["tuned"]["wall_s"]
                target += f" (now {ratio:.2f}x)"
            lines.append(
                [
                    f"{name}: {'default' if kind == 'default' else ' '.join(row['options'])}",
                    f"{row['wall_s']:.1f}",
                    f"{row['speedup']:.1f}x",
                    _pct(row.get("utilisation")),
                    _pct(row.get("ideal_over_run")),
                    _pct(row.get("ideal_at_own_pace_over_run")),
                    _pct(row.get("utilisation_while_sending")),
                    _pct(row["share_429"]),
                    row["failed_rows"],
                    target,
                ]
            )
    outage = found["outage"]
    lines.append(
        [
            f"no limiter, {OUTAGE_SECONDS:g} s outage mid-run: default",
            f"{outage['wall_s']:.1f}",
            f"{outage['speedup']:.1f}x",
            "-",
            "-",
            "-",
            "-",
            _pct(outage["share_429"]),
            outage["failed_rows"],
            f"failed 0, +{outage['longer_than_no_outage_s']:.1f} s (about {OUTAGE_SECONDS:g})",
        ]
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--people", type=int, default=400)
    args = parser.parse_args()
    if args.quick:
        args.clients, args.people = 20, 60
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        data = make_onboarding(tmp / "input", args.clients, args.people)
        base = baseline(data)
        found = portals(data, tmp, base)
        c = costs(data, tmp)
    rows = data.clients + data.people
    default = found["no limiter"]["default"]
    same = all(base["portal_counts"][k] == default["portal_counts"][k] for k in KINDS)
    print(
        table(
            f"throughput: {data.clients} clients + {data.people} people ({rows} rows), "
            f"100 ms ± 30 ms per request; the scripts: {base['wall_s']:.1f} s, "
            f"{base['requests']} requests",
            [
                "portal: options",
                "time (s)",
                "speedup",
                "utilisation",
                "strict",
                "own pace",
                "sending",
                "429s",
                "failed",
                "target",
            ],
            portal_lines(base, found),
        )
    )
    print()
    lines: list[list[object]] = [
        ["same rooms, folders, files, people, shares, links as the scripts", same, "True"],
        ["bytes received, default run without a limiter", default["bytes_received"], ""],
        [
            "bytes received per request",
            round(default["bytes_received"] / max(1, default["requests"])),
            "",
        ],
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
    print(table("throughput: the rest", ["measure", "value", "target"], lines))
    loads = [v for entry in found.values() for r in _rows_of(entry) for v in r["load"]]
    print(f"machine load (1-min average) during the runs: {min(loads)} to {max(loads)}")
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
            "latency": "100 ms ± 30 ms per request (70 ms + up to 60 ms)",
            "baseline": base,
            "portals": found,
            "same_portal_counts": same,
            "costs": c,
        },
    )


def _rows_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if "default" in entry:
        return [entry["default"], entry["tuned"]]
    return [entry]


if __name__ == "__main__":
    main()
