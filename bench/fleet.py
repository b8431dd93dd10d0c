"""A fleet of portals in one process against the same portals one after another.

    python bench/fleet.py [--portals N] [--latency-ms MS] [--state redis://…]

Starts N sandbox portals (each its own process, the real limits on: 1,500 requests a minute,
50 GETs and 15 writes in flight; 40 ms latency), seeds each with the sample's account
managers, and onboards the sample workbook into every portal with `bulk-onboard fleet run`:
once with `concurrency = N` (every portal at once, one process), once on fresh portals with
`concurrency = 1` (one after another), then the first fleet again (a second night: no write
expected). Wall time and CPU of the fleet process are measured; results go to
bench/results.json ("fleet"; with --state, the fleet's shared state in that Redis (the lease,
each portal's store): "fleet_shared_state").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from harness import (
    ROOT,
    measure,
    merge_results,
    sandbox_process,
    table,
    tool_command,
    write_requests,
)

sys.path.insert(0, str(ROOT))
from bulk_onboard.cli.demo import EXISTING_MANAGERS

SAMPLE = ROOT / "sample_data" / "onboarding.xlsx"


def fleet_file(folder: Path, portals: list[Any], concurrency: int, state: str) -> Path:
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    lines = [
        f'[fleet]\nreports = "reports"\nconcurrency = {concurrency}\nstate = "{state}"\n',
        f'[defaults]\ntoken = "file:tokens/{{id}}.token"\ninput = ["{SAMPLE}"]\n',
    ]
    for n, sandbox in enumerate(portals):
        token = tokens / f"p{n}.token"
        token.write_text(sandbox.token)
        token.chmod(0o600)
        lines.append(f'[[portal]]\nid = "p{n}"\nurl = "{sandbox.url}"\n')
    path = folder / "fleet.toml"
    path.write_text("\n".join(lines))
    return path


def night(
    folder: Path, portals: list[Any], concurrency: int, label: str, state: str
) -> dict[str, Any]:
    path = fleet_file(folder, portals, concurrency, state)
    for sandbox in portals:
        sandbox.admin("DELETE", "/sandbox/requests")
    ran = measure(tool_command("fleet", "run", str(path)), env={**os.environ}, cwd=folder)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    writes = [write_requests(sandbox.admin("GET", "/sandbox/requests")) for sandbox in portals]
    audits = [sandbox.admin("GET", "/sandbox/audit") for sandbox in portals]
    assert all(a["clean"] for a in audits), "a duplicate in a portal"
    document = json.loads((folder / "reports" / "fleet.json").read_text())
    print(ran.stdout)
    return {
        "label": label,
        "portals": len(portals),
        "concurrency": concurrency,
        "wall_s": round(ran.wall_s, 2),
        "cpu_s": round(ran.cpu_s, 2),
        "requests": document["requests"],
        "cpu_ms_per_1000_requests": round(1000 * ran.cpu_s / max(1, document["requests"]) * 1000)
        / 1000,
        "writes": sum(writes),
        "states": document["states"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--state", default="", help="redis://…: the fleet's shared state")
    args = parser.parse_args()
    options = ("--latency-ms", f"{args.latency_ms:g}", "--jitter-ms", f"{args.latency_ms / 4:g}")
    rows = []
    with TemporaryDirectory() as scratch, ExitStack() as stack:
        together = [stack.enter_context(sandbox_process(*options)) for _ in range(args.portals)]
        apart = [stack.enter_context(sandbox_process(*options)) for _ in range(args.portals)]
        for sandbox in (*together, *apart):
            sandbox.admin("POST", "/sandbox/people", EXISTING_MANAGERS)
        base = Path(scratch)
        for folder, portals, at_once, label in (
            ("together", together, args.portals, "all at once"),
            ("apart", apart, 1, "one after another"),
            ("together", together, args.portals, "all at once, again"),
        ):
            rows.append(night(base / folder, portals, at_once, label, args.state))
    key = "fleet_shared_state" if args.state else "fleet"
    merge_results(key, {"runs": rows, "latency_ms": args.latency_ms})
    print(
        table(
            "fleet run: the sample workbook into each portal",
            ["", "portals", "at once", "wall s", "CPU s", "requests", "writes"],
            [
                [
                    r["label"],
                    r["portals"],
                    r["concurrency"],
                    r["wall_s"],
                    r["cpu_s"],
                    r["requests"],
                    r["writes"],
                ]
                for r in rows
            ],
        )
    )


if __name__ == "__main__":
    main()
