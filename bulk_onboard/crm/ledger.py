"""The ledger: idempotency keys the CRM has taken, kept across runs (one key per line).

It belongs to the portal, not to a report folder: every run against one portal, whatever its
--report-dir or working directory, uses

    <state folder>/portals/<host>-<hash of the address>/crm-delivered.txt

where the state folder is $BULK_ONBOARD_STATE_DIR or the user's state folder of the platform
(config.default_state_dir, config.portal_state_dir). Its keys are (portal address, client, room), so a fresh portal
whose rooms reuse ids is announced in full. A ledger of an earlier version
(reports/crm-delivered.txt, keys of client and room only) is taken over by the first portal
that runs with that report folder, and renamed so that no other portal inherits it.
With a shared state (portal_store.RedisStore) the keys are in Redis too: the ledger is the
union of both, so another machine, or this one after Redis lost its keys, announces nothing
twice.
"""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.config import portal_state_dir
from bulk_onboard.state.store import FolderStore, PortalStore

LEDGER_NAME = "crm-delivered.txt"


def _read(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


class Ledger:
    """Every record the CRM took, so a nightly rerun announces only what it has not taken."""

    def __init__(
        self,
        path: Path,
        *,
        portal_url: str = "",
        legacy: Path | None = None,
        store: PortalStore | None = None,
    ) -> None:
        self.path = path
        self.store = store or FolderStore(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        if portal_url and not (path.parent / "portal.txt").exists():
            (path.parent / "portal.txt").write_text(portal_url + "\n", encoding="utf-8")
        self.keys: set[str] = self.store.lines(path.name)
        if legacy is not None and legacy.is_file():
            self._take_over(legacy)

    @classmethod
    def for_portal(
        cls,
        state_dir: Path,
        portal_url: str,
        *,
        legacy: Path | None = None,
        store: PortalStore | None = None,
    ) -> Ledger:
        folder = portal_state_dir(state_dir, portal_url)
        return cls(folder / LEDGER_NAME, portal_url=portal_url, legacy=legacy, store=store)

    def _take_over(self, legacy: Path) -> None:
        """Keys of an earlier version's ledger: appended here, the old file renamed."""
        old = _read(legacy) - self.keys
        if old:
            self._append(sorted(old))
        legacy.rename(legacy.with_name(f"{legacy.name}.moved-to-state-folder"))

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, key: str) -> None:
        self._append([key])

    def _append(self, keys: list[str]) -> None:
        self.store.append(self.path.name, keys)
        self.keys.update(keys)
