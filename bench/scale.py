"""Scale: wall time and the tool's memory as the spreadsheet grows to 100,000 people.

    python bench/scale.py [--quick] [--named-sizes 10000,30000,100000]
                          [--mixed-sizes 10000,20000] [--budget-seconds S]

One client row per ten people. For each size a fresh sandbox portal runs in its own process
without latency or limits, and `bulk-onboard run --rate 1000 --concurrency 16` onboards the
generated files. Two series:

- mixed: the realistic shape (one person in four without names, so invited by e-mail);
- named: the same with every person named (created with POST people, no invitations).

Measured per size: wall time, requests, the tool's CPU time and peak resident memory (wait4()
of that one child process), its resident memory sampled over the run, the sandbox's CPU time,
the bytes the tool received, and `bulk-onboard validate` of the same files (reads and checks
them, sends nothing) for the memory the input alone takes.

A size whose run is predicted to take longer than --budget-seconds is not run: its figures
are extrapolated from the two largest measured sizes of its series with the power law those
two show (t ∝ rows^k), and labelled so.
"""

from __future__ import annotations

import argparse
import math
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

PROJECTED = ("wall_s", "requests", "tool_cpu_s", "portal_cpu_s", "bytes_received_mb")


def one_size(tmp: Path, series: str, people: int, clients: int) -> dict[str, Any]:
    nameless_every = 4 if series == "mixed" else 0
    data = make_onboarding(
        tmp / f"in-{series}-{people}", clients, people, managers=40, nameless_every=nameless_every
    )
    check = measure(tool_command("validate", *data.files))
    if check.exit_code != 0:
        raise RuntimeError(f"validate exited {check.exit_code}: {check.stderr[-2000:]}")
    with sandbox_process("--rate-limit", "off") as sandbox:
        sandbox.admin("POST", "/sandbox/people", data.managers)
        sandbox.admin("DELETE", "/sandbox/requests")
        portal_cpu = sandbox.cpu_seconds()
        report_dir = tmp / f"reports-{series}-{people}"
        command = tool_command(
            "run",
            *data.files,
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
    try:
        summary = read_summary(report_dir)
    except (OSError, RuntimeError, ValueError):
        summary = None
    if run.exit_code not in (0, 1) or summary is None:
        raise RuntimeError(f"run exited {run.exit_code}: {run.stderr[-3000:]}")
    quarters = [
        round(max((mib for t, mib in run.rss_samples if t <= run.wall_s * q), default=0.0), 1)
        for q in (0.25, 0.5, 0.75, 1.0)
    ]
    return {
        "series": series,
        "people": people,
        "clients": clients,
        "nameless": data.people - data.named,
        "rows": people + clients,
        "measured": True,
        "wall_s": round(run.wall_s, 2),
        "run_s": summary["duration_s"],
        "requests": counters["total"],
        "invite_requests": counters["byRoute"].get("POST /api/2.0/people/invite", 0),
        "requests_per_second": round(counters["total"] / run.wall_s, 1),
        "tool_cpu_s": round(run.cpu_s, 2),
        "portal_cpu_s": round(portal_cpu, 2),
        "bytes_received_mb": round(summary["requests"]["bytes_received"] / 1e6, 1),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
        "rss_by_quarter_mib": quarters,
        "validate_s": round(check.wall_s, 2),
        "validate_peak_rss_mib": round(check.peak_rss_mib, 1),
        "statuses": {k: v for k, v in summary["statuses"].items() if v},
    }


def project(measured: list[dict[str, Any]], people: int, clients: int) -> dict[str, Any]:
    """Figures for a size not run, from the power law of the two largest measured sizes."""
    rows = people + clients
    out: dict[str, Any] = {
        "series": measured[-1]["series"],
        "people": people,
        "clients": clients,
        "rows": rows,
        "measured": False,
    }
    if len(measured) == 1:
        (last,) = measured
        exponents = {key: 1.0 for key in PROJECTED}
    else:
        before, last = measured[-2], measured[-1]
        ratio = math.log(last["rows"] / before["rows"])
        exponents = {
            key: math.log(max(last[key], 1e-9) / max(before[key], 1e-9)) / ratio
            for key in PROJECTED
        }
    for key in PROJECTED:
        out[key] = round(last[key] * (rows / last["rows"]) ** exponents[key], 1)
    out["exponents"] = {key: round(value, 2) for key, value in exponents.items()}
    out["requests_per_second"] = round(out["requests"] / out["wall_s"], 1)
    return out


def series_sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke size")
    parser.add_argument("--named-sizes", default="10000,30000,100000")
    parser.add_argument("--mixed-sizes", default="10000,20000,100000")
    parser.add_argument("--clients-per-person", type=float, default=0.1)
    parser.add_argument("--budget-seconds", type=float, default=900.0)
    args = parser.parse_args()
    plan = {
        "mixed": [1000, 2000] if args.quick else series_sizes(args.mixed_sizes),
        "named": [1000, 3000] if args.quick else series_sizes(args.named_sizes),
    }
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for series, sizes in plan.items():
            done: list[dict[str, Any]] = []
            for people in sizes:
                clients = max(1, round(people * args.clients_per_person))
                if done:
                    guess = project(done, people, clients)
                    if guess["wall_s"] > args.budget_seconds:
                        results.append(guess)
                        continue
                done.append(one_size(Path(folder), series, people, clients))
                results.append(done[-1])
    lines = []
    for r in results:
        label = f"{r['series']} {r['people']:,} + {r['clients']:,}"
        if not r["measured"]:
            label += f" (extrapolated, t ~ rows^{r['exponents']['wall_s']:.2f})"
        lines.append(
            [
                label,
                r["requests"],
                r["wall_s"],
                r["requests_per_second"],
                r["tool_cpu_s"],
                r["portal_cpu_s"],
                r["bytes_received_mb"],
                r.get("peak_rss_mib", "-"),
                " / ".join(f"{q:.0f}" for q in r.get("rss_by_quarter_mib", [])) or "-",
                r.get("validate_peak_rss_mib", "-"),
            ]
        )
    print(
        table(
            "scale: people + clients; mixed = 1 in 4 invited by e-mail, named = all created; "
            "sandbox in its own process, no latency, limits off",
            [
                "series, people + clients",
                "requests",
                "wall s",
                "req/s",
                "tool CPU s",
                "portal CPU s",
                "MB received",
                "peak RSS MiB",
                "RSS at 1/4..4/4",
                "validate RSS MiB",
            ],
            lines,
        )
    )
    slopes = {}
    for series in plan:
        measured = [r for r in results if r["series"] == series and r["measured"]]
        if len(measured) >= 2:
            first, last = measured[0], measured[-1]
            slopes[series] = round(
                (last["peak_rss_mib"] - first["peak_rss_mib"])
                * 1024
                / (last["rows"] - first["rows"]),
                2,
            )
            print(
                f"{series}: peak RSS grows {slopes[series]:.2f} KiB per input row "
                f"from {first['rows']:,} to {last['rows']:,} rows"
            )
    merge_results(
        "scale",
        {
            "quick": args.quick,
            "sandbox": "own process, no latency, rate limit off; --rate 1000 --concurrency 16",
            "sizes": results,
            "rss_kib_per_row": slopes,
        },
    )


if __name__ == "__main__":
    main()
