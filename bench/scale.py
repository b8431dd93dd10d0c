"""Scale: the tool's peak memory, CPU per 1,000 requests and wall time as the input grows.

    python bench/scale.py [--quick] [--sizes 5000,20000,50000,110000]
                          [--series named,nameless,clients] [--budget-seconds S]

Three series, each at every size (input rows):

- named: people with names (created with POST people), one client row per ten people;
- nameless: the same, with people without names (each invited by e-mail);
- clients: client rows only (room, folders, copies, share, link).

For each size a fresh sandbox portal runs in its own process without latency or limits, and
`bulk-onboard run --rate 1000 --concurrency 16` onboards the generated files. Measured: wall
time, requests, the tool's CPU time and peak resident memory (wait4() of that one child), its
memory sampled over the run, the sandbox's CPU time, and the machine's load (uptime) at the
start. The growth per row is the slope of the peak between the smallest and largest size of
a series. A size whose run is predicted (from the two sizes before it) to take longer than
--budget-seconds is not run and is said so.

Targets (2-core machine): peak RSS at 110,000 rows at most 300 MiB, growth at most 1 KiB a
row, the tool's CPU at most 0.5 s per 1,000 requests from 20,000 rows on.
"""

from __future__ import annotations

import argparse
import math
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

SERIES = ("named", "nameless", "clients")


def shape(series: str, rows: int) -> tuple[int, int, int]:
    """(clients, people, one person in how many without names) for a series and size."""
    if series == "clients":
        return rows, 0, 0
    clients = max(1, round(rows / 11))
    return clients, rows - clients, (1 if series == "nameless" else 0)


def one_size(tmp: Path, series: str, rows: int) -> dict[str, Any]:
    clients, people, nameless_every = shape(series, rows)
    data = make_onboarding(
        tmp / f"in-{series}-{rows}", clients, people, managers=40, nameless_every=nameless_every
    )
    files = data.files if people else data.files[:1]
    load = os.getloadavg()[0]
    with sandbox_process("--rate-limit", "off", stop_after=7200) as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        portal_cpu = sandbox.cpu_seconds()
        report_dir = tmp / f"reports-{series}-{rows}"
        command = tool_command(
            "run",
            *files,
            "--rate",
            "1000",
            "--concurrency",
            "16",
            "--no-progress",
            "--log-format",
            "json",
            "--report-dir",
            str(report_dir),
        )
        run = measure(command, env=tool_env(sandbox), sample_every=0.5)
        portal_cpu = sandbox.cpu_seconds() - portal_cpu
        counters = sandbox.admin("GET", "/sandbox/requests")
    summary = read_summary(report_dir)
    if run.exit_code not in (0, 1):
        raise RuntimeError(f"run exited {run.exit_code}: {run.stderr[-3000:]}")
    requests = counters["total"]
    return {
        "series": series,
        "rows": rows,
        "clients": clients,
        "people": people,
        "load_at_start": round(load, 2),
        "wall_s": round(run.wall_s, 1),
        "requests": requests,
        "tool_cpu_s": round(run.cpu_s, 2),
        "cpu_per_1000_requests_s": round(1000 * run.cpu_s / max(requests, 1), 3),
        "portal_cpu_s": round(portal_cpu, 1),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
        "bytes_received_mb": round(summary["requests"]["bytes_received"] / 1e6, 1),
        "statuses": {k: v for k, v in summary["statuses"].items() if v},
    }


def predicted_wall(done: list[dict[str, Any]], rows: int) -> float:
    if not done:
        return 0.0
    if len(done) == 1:
        return float(done[0]["wall_s"]) * rows / done[0]["rows"]
    before, last = done[-2], done[-1]
    k = math.log(last["wall_s"] / before["wall_s"]) / math.log(last["rows"] / before["rows"])
    return float(last["wall_s"]) * (rows / last["rows"]) ** k


def growth_kib_per_row(measured: list[dict[str, Any]]) -> float | None:
    if len(measured) < 2:
        return None
    first, last = measured[0], measured[-1]
    return round(
        (last["peak_rss_mib"] - first["peak_rss_mib"]) * 1024 / (last["rows"] - first["rows"]), 2
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke sizes")
    parser.add_argument("--sizes", default="5000,20000,50000,110000")
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--budget-seconds", type=float, default=900.0)
    args = parser.parse_args()
    sizes = [1000, 3000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    series_list = [s for s in args.series.split(",") if s]
    results: list[dict[str, Any]] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for series in series_list:
            done: list[dict[str, Any]] = []
            for rows in sizes:
                guess = predicted_wall(done, rows)
                if guess > args.budget_seconds:
                    skipped.append(f"{series} {rows:,}: predicted {guess:,.0f} s, not run")
                    continue
                done.append(one_size(Path(folder), series, rows))
                results.append(done[-1])
                print(f"measured {series} {rows:,}: {done[-1]}", flush=True)
    lines = [
        [
            f"{r['series']} {r['rows']:,}",
            r["requests"],
            r["wall_s"],
            r["tool_cpu_s"],
            r["cpu_per_1000_requests_s"],
            r["portal_cpu_s"],
            r["peak_rss_mib"],
            r["load_at_start"],
        ]
        for r in results
    ]
    print(
        table(
            "scale: sandbox in its own process, no latency, limits off; --rate 1000 "
            "--concurrency 16",
            [
                "series, rows",
                "requests",
                "wall s",
                "tool CPU s",
                "CPU s / 1,000 req",
                "portal CPU s",
                "peak RSS MiB",
                "load",
            ],
            lines,
        )
    )
    growth: dict[str, float | None] = {}
    for series in series_list:
        measured = [r for r in results if r["series"] == series]
        growth[series] = growth_kib_per_row(measured)
        if growth[series] is not None:
            print(
                f"{series}: peak RSS grows {growth[series]:.2f} KiB a row from "
                f"{measured[0]['rows']:,} to {measured[-1]['rows']:,} rows"
            )
    for line in skipped:
        print(line)
    merge_results(
        "scale",
        {
            "quick": args.quick,
            "sandbox": "own process, no latency, rate limit off; --rate 1000 --concurrency 16",
            "sizes": results,
            "rss_kib_per_row": growth,
            "not_run": skipped,
        },
    )


if __name__ == "__main__":
    main()
