"""Run every benchmark and print every table: `python bench/run.py [--quick] [--only NAMES]`.

Each benchmark runs in its own process, one after the other (they would skew each other's
figures on a small machine), starts its own sandbox portal and generates its own input. Each
writes its section of bench/results.json; the intake benchmark prints lines only, which are
stored here as its section. --quick runs each at a small smoke size (about two minutes in all).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from harness import NEUTRAL_CWD, machine, merge_results

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "intake": (["intake.py"], ["intake.py", "--clients", "1000", "--users", "10000"]),
    "client_cost": (["client_cost.py"], ["client_cost.py", "--quick"]),
    "baseline": (["baseline.py"], ["baseline.py", "--quick"]),
    "throughput": (["throughput.py"], ["throughput.py", "--quick"]),
    "bytes": (["bytes.py"], ["bytes.py", "--quick"]),
    "scale": (["scale.py"], ["scale.py", "--quick"]),
    "duplicates": (["duplicates.py"], ["duplicates.py", "--repeat", "1"]),
    "writes_per_client": (["writes_per_client.py"], ["writes_per_client.py", "--clients", "10"]),
}


def run_one(name: str, quick: bool) -> tuple[int, str, float]:
    full, smoke = BENCHMARKS[name]
    script, *args = smoke if quick else full
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        cwd=NEUTRAL_CWD,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return process.wait(), "".join(lines), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke sizes")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated: {','.join(BENCHMARKS)}"
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    here = machine()
    print(
        f"machine: {here['platform']}, {here['cpu_count']} CPUs ({here['processor']}), "
        f"Python {here['python']}, engine at {here.get('commit', '?')}"
    )
    outputs: dict[str, str] = {}
    failed: list[str] = []
    for name in names:
        print(f"\n== {name} ==", flush=True)
        code, output, seconds = run_one(name, args.quick)
        outputs[name] = output
        if code != 0:
            failed.append(name)
            print(f"{name} failed with exit code {code}", flush=True)
        elif name == "intake":
            merge_results(
                "intake",
                {"quick": args.quick, "seconds": round(seconds, 1), "lines": output.splitlines()},
            )
    print("\n\n======== all tables ========")
    for name, output in outputs.items():
        print(f"\n[{name}]\n{output.rstrip()}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
