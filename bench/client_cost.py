"""Client cost: CPU seconds of the bulk-onboard process per 1,000 requests.

    python bench/client_cost.py [--quick] [--people N] [--repeat N] [--no-profile]

A sandbox portal without latency or limits runs in its own process; `bulk-onboard run`
onboards a generated spreadsheet (default 2,000 people and 200 clients) into a fresh portal
--repeat times. The tool's CPU time (user + system, from wait4() of that child alone) is
divided by the requests it sent. `bulk-onboard validate` of the same files measures the fixed
part (interpreter start, imports, reading and planning the rows), which is subtracted for
the net figure. A last run under cProfile shows where the tool's CPU time goes, by package.
"""

from __future__ import annotations

import argparse
import pstats
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from harness import (
    Measured,
    Onboarding,
    make_onboarding,
    measure,
    merge_results,
    read_summary,
    sandbox_process,
    table,
    tool_command,
    tool_env,
)

RUN_OPTIONS = ["--rate", "1000", "--concurrency", "16", "--no-progress", "--log-format", "json"]


def one_run(data: Onboarding, report_dir: Path, profile: Path | None = None) -> dict[str, Any]:
    with sandbox_process("--rate-limit", "off") as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        portal_before = sandbox.cpu_seconds()
        args = ["run", *data.files, *RUN_OPTIONS, "--report-dir", str(report_dir)]
        if profile is None:
            command = tool_command(*args)
        else:
            command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "bulk_onboard"]
            command += args
        done: Measured = measure(command, env=tool_env(sandbox))
        portal_cpu = sandbox.cpu_seconds() - portal_before
        counters = sandbox.admin("GET", "/sandbox/requests")
    if done.exit_code not in (0, 1):
        raise RuntimeError(f"run exited {done.exit_code}: {done.stderr[-3000:]}")
    summary = read_summary(report_dir)
    return {
        "wall_s": done.wall_s,
        "cpu_s": done.cpu_s,
        "user_s": done.user_s,
        "system_s": done.system_s,
        "requests": summary["requests"]["attempts"],
        "bytes_received": summary["requests"]["bytes_received"],
        "portal_requests": counters["total"],
        "portal_cpu_s": portal_cpu,
        "statuses": {k: v for k, v in summary["statuses"].items() if v},
    }


def by_package(profile: Path, top: int = 10) -> tuple[list[tuple[str, float]], float]:
    """Share of the profiled process's own time (tottime) by package or module, and the
    share spent waiting in the event loop's poll (idle: waiting for the portal, not CPU),
    which the package shares leave out."""
    stats = pstats.Stats(str(profile))
    groups: Counter[str] = Counter()
    waiting = total = 0.0
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        total += tottime
        if filename == "~" and function.strip("<>").split(" of ")[0] in POLLS:
            waiting += tottime
        else:
            groups[_group(filename, function)] += tottime
    busy = total - waiting
    shares = [(name, seconds / busy) for name, seconds in groups.most_common(top)]
    return shares, waiting / total


POLLS = ("method 'poll'", "method 'select'", "method 'control'")


def _group(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    if path == "~":
        return f"built-in: {function.strip('<>').split(' of ')[0][:40]}"
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/bulk_onboard/" in path:
        return "bulk_onboard." + path.split("/bulk_onboard/", 1)[1].removesuffix(".py").replace(
            "/", "."
        )
    parts = path.split("/")
    for marker in ("python3.11", "lib"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            if rest:
                return "stdlib " + rest[0].removesuffix(".py")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    people = 300 if args.quick else args.people
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        data = make_onboarding(tmp / "input", max(1, people // 10), people, managers=20)
        fixed = measure(tool_command("validate", *data.files))
        runs = [one_run(data, tmp / f"run-{n}") for n in range(repeat)]
        groups: list[tuple[str, float]] = []
        waiting = 0.0
        if not args.no_profile:
            one_run(data, tmp / "profiled", profile=tmp / "run.prof")
            groups, waiting = by_package(tmp / "run.prof")
    median = {key: statistics.median(r[key] for r in runs) for key in ("wall_s", "cpu_s")}
    requests = runs[0]["requests"]
    portal = statistics.median(r["portal_cpu_s"] for r in runs)
    per_1000 = median["cpu_s"] / requests * 1000
    net_per_1000 = (median["cpu_s"] - fixed.cpu_s) / requests * 1000
    lines: list[list[object]] = [
        ["requests sent per run", requests],
        ["wall time (s), median", round(median["wall_s"], 2)],
        ["tool CPU (s), median of runs", round(median["cpu_s"], 2)],
        ["fixed CPU: start, imports, intake (s)", round(fixed.cpu_s, 2)],
        ["tool CPU per 1,000 requests (s)", round(per_1000, 3)],
        ["  net of the fixed part (s)", round(net_per_1000, 3)],
        ["sandbox CPU per 1,000 requests (s)", round(portal / requests * 1000, 3)],
        ["requests per tool CPU second (net)", round(1000 / net_per_1000)],
        ["KB received per request", round(runs[0]["bytes_received"] / requests / 1000, 1)],
    ]
    print(
        table(
            f"client cost: {people:,} people + {people // 10:,} clients, zero-latency sandbox "
            f"in another process ({repeat} run{'s' if repeat > 1 else ''})",
            ["measure", "value"],
            lines,
        )
    )
    if groups:
        print(
            "where the tool's time goes (cProfile, own time by package, "
            f"leaving out {waiting:.0%} waiting in the event loop's poll):"
        )
        for name, share in groups:
            print(f"  {share:6.1%}  {name}")
    merge_results(
        "client_cost",
        {
            "quick": args.quick,
            "input": {"people": people, "clients": max(1, people // 10)},
            "runs": runs,
            "fixed_cpu_s": round(fixed.cpu_s, 3),
            "cpu_s_per_1000_requests": round(per_1000, 4),
            "net_cpu_s_per_1000_requests": round(net_per_1000, 4),
            "sandbox_cpu_s_per_1000_requests": round(portal / requests * 1000, 4),
            "profile_by_package": [[name, round(share, 4)] for name, share in groups],
            "profile_waiting_share": round(waiting, 4),
        },
    )


if __name__ == "__main__":
    main()
