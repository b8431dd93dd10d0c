"""Benchmark of the intake: read, validate and plan 10,000 clients and 100,000 people.

    python bench/intake.py [--clients N] [--users N] [--only csv|xlsx|xlsx-excel]

Generates the input in a temporary folder (CSV files; a two-sheet workbook written in
openpyxl's write-only mode; the same workbook laid out as Excel saves it), then times `load_intake` on each variant in a fresh process and
reports wall time, CPU time (the figure to compare on a loaded machine) and peak memory (the process's peak resident set size, which includes
the interpreter and libraries). Generation is not timed. Targets on a 2-core machine: the CSV
path under 5 s and 500 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CLIENT_HEADER = [
    "client_id",
    "client_name",
    "client_email",
    "manager_email",
    "room_title",
    "room_type",
    "client_access",
    "tags",
]
USER_HEADER = ["email", "first_name", "last_name", "type", "room", "access", "culture"]
ROOM_TYPES = ["", "", "", "custom", "virtual-data"]
FIRST = ["Anna", "Jürgen", "Zoë", "José", "Chloé", "Haruto", "Ingrid", "Siobhán", "Oluwaseun"]
LAST = ["Müller", "O'Brien", "Dvořáková", "Nakamura", "El Idrissi", "Lefèvre", "Al-Mansouri"]


def client_rows(count: int) -> list[list[str]]:
    rows = []
    for n in range(count):
        room_type = ROOM_TYPES[n % len(ROOM_TYPES)]
        access = "editing" if room_type == "custom" else ""
        rows.append(
            [
                f"C-{100000 + n}",
                f"Client {n} {LAST[n % len(LAST)]} GmbH",
                f"contact{n}@client{n}.example.com",
                f"manager{n % 40}@northwind.example",
                "",
                room_type,
                access,
                "key-account" if n % 7 == 0 else "",
            ]
        )
    return rows


def user_rows(count: int, clients: int) -> list[list[str]]:
    rows = []
    for n in range(count):
        named = n % 4 != 0
        room = f"C-{100000 + n % clients}" if n % 3 else ""
        rows.append(
            [
                f"person{n}@company{n % 500}.example.com",
                FIRST[n % len(FIRST)] if named else "",
                LAST[n % len(LAST)] if named else "",
                "user" if n % 50 else "room-admin",
                room,
                ("editing", "read", "content-creator")[n % 3] if room else "",
                "en-US" if n % 2 else "",
            ]
        )
    return rows


def generate(folder: Path, clients: int, users: int) -> dict[str, list[Path]]:
    crows, urows = client_rows(clients), user_rows(users, clients)
    for name, header, rows in (
        ("clients.csv", CLIENT_HEADER, crows),
        ("users.csv", USER_HEADER, urows),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, header, rows in (("clients", CLIENT_HEADER, crows), ("users", USER_HEADER, urows)):
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    book.save(folder / "onboarding.xlsx")
    excel_like(
        folder / "excel_like.xlsx",
        [("clients", [CLIENT_HEADER, *crows]), ("users", [USER_HEADER, *urows])],
    )
    return {
        "csv": [folder / "clients.csv", folder / "users.csv"],
        "xlsx": [folder / "onboarding.xlsx"],
        "xlsx-excel": [folder / "excel_like.xlsx"],
    }


def excel_like(path: Path, sheets: list[tuple[str, list[list[str]]]]) -> None:
    """A workbook laid out as Excel saves one: shared strings and a <dimension> element.

    openpyxl's own writer stores every text inline and omits <dimension>, which makes its
    files much slower to read back than the files people bring from Excel.
    """
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    strings: dict[str, int] = {}
    parts: dict[str, str] = {}
    for number, (_, rows) in enumerate(sheets, 1):
        out = [
            (
                f'<worksheet xmlns="{main}"><dimension ref="A1:{chr(64 + len(rows[0]))}'
                f'{len(rows)}"/><sheetData>'
            )
        ]
        for r, row in enumerate(rows, 1):
            cells = "".join(
                f'<c r="{chr(65 + c)}{r}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>'
                for c, v in enumerate(row)
                if v
            )
            out.append(f'<row r="{r}">{cells}</row>')
        out.append("</sheetData></worksheet>")
        parts[f"xl/worksheets/sheet{number}.xml"] = "".join(out)
    escaped = (s.replace("&", "&amp;").replace("<", "&lt;") for s in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{main}">' + "".join(f"<si><t>{s}</t></si>" for s in escaped) + "</sst>"
    )
    parts["xl/workbook.xml"] = (
        f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        + "".join(
            f'<sheet name="{t}" sheetId="{n}" r:id="rId{n}"/>' for n, (t, _) in enumerate(sheets, 1)
        )
        + "</sheets></workbook>"
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<Relationships xmlns="{pkg}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{rel}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rIdS" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    parts["_rels/.rels"] = (
        f'<Relationships xmlns="{pkg}"><Relationship Id="r1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{ct}.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        + "</Types>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def peak_kib() -> int:
    """This process's peak resident memory in KiB.

    /proc's VmHWM starts afresh at exec; ru_maxrss would still count the parent's memory at
    the time it forked this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(paths: list[str]) -> dict[str, object]:
    """Run in a child process: time load_intake and report the peak resident memory."""
    from bulk_onboard.intake import load_intake
    from bulk_onboard.playbook.reader import default_playbook

    before = peak_kib()
    start, cpu = time.perf_counter(), time.process_time()
    intake = load_intake([Path(p) for p in paths], default_playbook())
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "cpu": round(time.process_time() - cpu, 2),
        "peak_mb": round(peak_kib() / 1024, 1),
        "baseline_mb": round(before / 1024, 1),
        "rows": intake.rows,
        "plans": len(intake.plans),
        "steps": sum(len(p.steps) for p in intake.plans),
        "invalid": len(intake.invalid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--only", choices=["csv", "xlsx", "xlsx-excel"])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        variants = generate(Path(tmp), args.clients, args.users)
        print(
            f"generated {args.clients:,} clients + {args.users:,} people "
            f"in {time.perf_counter() - started:.1f} s"
        )
        for name, paths in variants.items():
            if args.only and name != args.only:
                continue
            size = sum(p.stat().st_size for p in paths) / 1e6
            child = subprocess.run(
                [sys.executable, __file__, "--child", *map(str, paths)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"{name:10}  {size:5.1f} MB  {result['rows']:,} rows  {result['plans']:,} plans "
                f"({result['steps']:,} steps, {result['invalid']} invalid)  "
                f"{result['seconds']:.2f} s (CPU {result['cpu']:.2f} s)  peak {result['peak_mb']:.0f} MB "
                f"(interpreter and imports: {result['baseline_mb']:.0f} MB)"
            )


if __name__ == "__main__":
    main()
