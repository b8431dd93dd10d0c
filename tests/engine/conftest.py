"""Helpers for engine tests: inputs of any size. The sandbox fixture and the shared helpers
(a sandbox or a run in its own process among them) are in tests/conftest.py and
tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.cli.demo import EXISTING_MANAGERS


def write_population(folder: Path, clients: int, people: int) -> tuple[Path, Path]:
    """A clients.csv and users.csv of the given sizes, shaped like the sample data: people
    with and without names, most of them joining a client's room."""
    managers = [m["email"] for m in EXISTING_MANAGERS]
    folder.mkdir(parents=True, exist_ok=True)
    clients_csv, users_csv = folder / "clients.csv", folder / "users.csv"
    lines = ["client_id,client_name,client_email,manager_email"]
    for n in range(clients):
        lines.append(
            f"K-{n:05d},Company {n:05d},contact{n}@company{n}.example.com,{managers[n % 4]}"
        )
    clients_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["email,first_name,last_name,room,access"]
    for n in range(people):
        named = n % 5 != 0
        first, last = ("Ana", f"Person-{chr(65 + n % 26)}") if named else ("", "")
        room = f"K-{n % clients:05d}" if n % 7 else ""
        access = "editing" if room else ""
        lines.append(f"person{n}@people.example.org,{first},{last},{room},{access}")
    users_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return clients_csv, users_csv
