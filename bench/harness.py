"""What the benchmarks share: the machine, results.json, sandbox processes, input, tables.

Not a benchmark itself. Every benchmark starts its own sandbox portal in a child process
(`bulk-onboard sandbox --port 0`), generates its own input in a temporary folder and merges its
section into bench/results.json next to a description of the machine it ran on.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"

# ---- the machine and results.json ----------------------------------------------------------


def machine() -> dict[str, Any]:
    """Where the figures were measured, and which code measured them."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    info.update(_git())
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git() -> dict[str, Any]:
    """The commit of the bulk_onboard that the benchmarks import, and whether its source
    differs from that commit. A copy outside the repository (on PYTHONPATH) may name its
    commit in a COMMIT file beside the package."""
    try:
        import bulk_onboard

        package = Path(bulk_onboard.__file__).resolve().parent
    except ImportError:
        return {}
    if not package.is_relative_to(ROOT):
        marker = package.parent / "COMMIT"
        commit = marker.read_text().strip() if marker.exists() else "unknown"
        return {"engine_path": str(package), "commit": commit}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bulk_onboard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {
        "engine_path": str(package.relative_to(ROOT)),  # the checkout's own package
        "commit": commit,
        "engine_modified_since_commit": bool(dirty),
    }


def merge_results(
    section: str, data: dict[str, Any], path: Path = RESULTS, keep: tuple[str, ...] = ()
) -> None:
    """Write one benchmark's section into results.json, keeping the other sections; for the
    keys in `keep` (dicts), the entries this run did not measure are kept too."""
    results: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                results = loaded
        except ValueError:
            pass
    here = machine()
    results["machine"] = here
    old = results.get(section)
    before: dict[str, Any] = old if isinstance(old, dict) else {}
    for key in keep:
        if isinstance(before.get(key), dict) and isinstance(data.get(key), dict):
            data = {**data, key: {**before[key], **data[key]}}
    results[section] = {"machine": here, **data}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


# ---- tables --------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        parts = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *(line(r) for r in cells[1:]), rule])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


# ---- the sandbox in a child process --------------------------------------------------------


# Children start outside the repository: `python -m` puts the working directory first on
# sys.path, and the children must import the same bulk_onboard as this process does.
NEUTRAL_CWD = Path(tempfile.gettempdir())


def tool_command(*args: str) -> list[str]:
    """The `bulk-onboard` command line, run by this interpreter (same environment)."""
    return [sys.executable, "-m", "bulk_onboard", *args]


@dataclass
class SandboxProcess:
    url: str
    token: str
    template_ids: dict[str, int]
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return http_json(method, f"{self.url}{path}", body)


@contextmanager
def sandbox_process(*options: str, stop_after: float = 3600.0) -> Iterator[SandboxProcess]:
    """`bulk-onboard sandbox --port 0 OPTIONS` in a child process; parses its URL and token."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            tool_command("sandbox", "--port", "0", "--stop-after", f"{stop_after:g}", *options),
            cwd=NEUTRAL_CWD,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            url, token, templates = _banner(process, errors)
            yield SandboxProcess(url, token, templates, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _banner(process: subprocess.Popen[str], errors: Any) -> tuple[str, str, dict[str, int]]:
    assert process.stdout is not None
    url = token = ""
    templates: dict[str, int] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            errors.seek(0)
            raise RuntimeError(f"the sandbox exited before it was ready: {errors.read()[-2000:]}")
        if "listening on" in line:
            url = line.split("listening on", 1)[1].strip()
        elif line.strip().startswith("API token:"):
            token = line.split(":", 1)[1].strip()
        elif line.strip().startswith("Template files:"):
            for item in line.split(":", 1)[1].split(","):
                name, _, number = item.strip().partition("=")
                templates[name] = int(number)
        elif line.startswith("Stops by itself"):
            break
    if not (url and token and templates):
        raise RuntimeError("the sandbox did not print its URL, token and template files")
    return url, token, templates


def http_json(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.loads(reply.read() or b"null")


def write_requests(counters: dict[str, Any]) -> int:
    """How many requests that reached the sandbox were writes (anything but GET)."""
    return sum(n for route, n in counters.get("byRoute", {}).items() if not route.startswith("GET"))


# ---- measuring a child process -------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Measured:
    """What one child process cost: wall time, CPU, peak memory, exit code, output."""

    exit_code: int
    wall_s: float
    user_s: float
    system_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.system_s


def measure(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    sample_every: float = 0.0,
    timeout: float = 7200.0,
) -> Measured:
    """Run a command to its end and measure it alone: wait4() gives this child's own rusage
    (its peak RSS and CPU), unlike RUSAGE_CHILDREN, which mixes every child waited for."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), stdout=out, stderr=err, text=True, env=env, cwd=cwd or NEUTRAL_CWD
        )
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(sample_every):
                kib = _rss_kib(process.pid)
                if kib is not None:
                    samples.append((time.perf_counter() - started, kib / 1024))

        sampler = threading.Thread(target=sample, daemon=True) if sample_every > 0 else None
        if sampler is not None:
            sampler.start()
        _, status, usage = _wait4(process, timeout)
        wall = time.perf_counter() - started
        done.set()
        if sampler is not None:
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            exit_code=process.returncode,
            wall_s=wall,
            user_s=usage.ru_utime,
            system_s=usage.ru_stime,
            peak_rss_mib=usage.ru_maxrss / 1024,
            stdout=out.read(),
            stderr=err.read(),
            rss_samples=samples,
        )


def _wait4(
    process: subprocess.Popen[str], timeout: float
) -> tuple[int, int, resource.struct_rusage]:
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > deadline:
            process.kill()
            return os.wait4(process.pid, 0)
        time.sleep(0.02)


def run_folder(report_dir: Path) -> Path:
    """The newest run folder under a --report-dir."""
    folders = [p for p in report_dir.iterdir() if (p / "summary.json").exists()]
    if not folders:
        raise RuntimeError(f"no run folder with a summary.json in {report_dir}")
    return max(folders, key=lambda p: (p / "summary.json").stat().st_mtime)


def read_summary(report_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_folder(report_dir) / "summary.json").read_text("utf-8")))


def read_report(report_dir: Path) -> list[dict[str, str]]:
    path = run_folder(report_dir) / "report.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def tool_env(sandbox: SandboxProcess) -> dict[str, str]:
    """The environment a `bulk-onboard run` against the sandbox gets: URL and token."""
    env = dict(os.environ)
    env["DOCSPACE_URL"] = sandbox.url
    env["DOCSPACE_TOKEN"] = sandbox.token
    return env


# ---- generated input -----------------------------------------------------------------------

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

_COMPANY = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wonka"]
_SUFFIX = ["GmbH", "Ltd", "S.A.", "AG", "Inc.", "S.r.l.", "B.V.", "Oy"]
_FIRST = ["Anna", "Jürgen", "Zoë", "José", "Chloé", "Haruto", "Ingrid", "Siobhán", "Oluwaseun"]
_LAST = ["Müller", "O'Brien", "Dvořáková", "Nakamura", "El Idrissi", "Lefèvre", "Al-Mansouri"]
_CULTURES = ["", "", "en-US", "de-DE", "fr-FR"]


@dataclass(frozen=True)
class Onboarding:
    """Generated input: the two CSV files and the account managers the portal must have."""

    clients_csv: Path
    users_csv: Path
    managers: list[dict[str, Any]]
    clients: int
    people: int
    named: int
    with_room: int

    @property
    def files(self) -> list[str]:
        return [str(self.clients_csv), str(self.users_csv)]


def make_onboarding(
    folder: Path, clients: int, people: int, managers: int = 12, nameless_every: int = 4
) -> Onboarding:
    """A workbook's worth of input in the shape companies bring: most clients in
    collaboration rooms, some custom and virtual-data rooms, a dozen account managers
    (two of them DocSpace admins); one person in `nameless_every` without names (invited by
    e-mail; 0: everybody has names), two in three joining a client room, a few room admins,
    mixed mail languages."""
    folder.mkdir(parents=True, exist_ok=True)
    manager_people = [
        {
            "email": f"am{n:02d}@northwind.example",
            "firstName": _FIRST[n % len(_FIRST)],
            "lastName": _LAST[n % len(_LAST)],
            "type": 3 if n < 2 else 1,
        }
        for n in range(managers)
    ]
    client_rows = []
    for n in range(clients):
        room_type = "custom" if n % 5 == 3 else "virtual-data" if n % 10 == 7 else ""
        client_rows.append(
            [
                f"C-{10000 + n}",
                f"{_COMPANY[n % len(_COMPANY)]} {_SUFFIX[n // len(_COMPANY) % len(_SUFFIX)]} {n}",
                f"contact{n}@client{n}.example.com",
                manager_people[n % managers]["email"],
                "",
                room_type,
                "",
                "key-account" if n % 7 == 0 else "",
            ]
        )
    user_rows = []
    named = with_room = 0
    for n in range(people):
        has_names = not nameless_every or n % nameless_every != 0
        room = f"C-{10000 + n % clients}" if clients and n % 3 else ""
        named += has_names
        with_room += bool(room)
        user_rows.append(
            [
                f"person{n}@company{n % 97}.example.com",
                _FIRST[n % len(_FIRST)] if has_names else "",
                _LAST[n % len(_LAST)] if has_names else "",
                "room-admin" if n % 50 == 49 else "user",
                room,
                ("editing", "read", "content-creator")[n % 3] if room else "",
                _CULTURES[n % len(_CULTURES)],
            ]
        )
    clients_csv, users_csv = folder / "clients.csv", folder / "users.csv"
    for path, header, rows in (
        (clients_csv, CLIENT_HEADER, client_rows),
        (users_csv, USER_HEADER, user_rows),
    ):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return Onboarding(clients_csv, users_csv, manager_people, clients, people, named, with_room)
