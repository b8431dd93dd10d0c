"""CrmDelivery: hands each onboarded client's record to every sink the playbook's [crm] sets.

One per run:

    check_crm(playbook.crm, os.environ, playbook.source)      # before any work: ConfigError
    async with CrmDelivery(playbook.crm, env=os.environ, source=playbook.source) as crm:
        result = await crm.announce(fields, run_id=run_id, portal_url=portal_url)
        journal outputs: result.outputs()

The file sinks are written first (local, and each keeps a record only once), then the
webhook. Every configured sink is tried even when another fails; a CrmError then names every
failure, and is transient only when each failure was. Trying the same record again is safe:
the files skip a key they hold, and the webhook carries the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from bulk_onboard.backoff import Clock, Random, RetryPolicy, Sleep
from bulk_onboard.crm.files import CsvSink, FileSink, JsonlSink
from bulk_onboard.crm.payload import build_record, build_update_record
from bulk_onboard.crm.webhook import DEFAULT_BACKOFF, WebhookSink
from bulk_onboard.errors import ConfigError, CrmError
from bulk_onboard.logs import register_secret
from bulk_onboard.playbook.reader import Crm

if TYPE_CHECKING:  # the webhook sink is the only aiohttp user here
    import aiohttp

SinkName = Literal["webhook", "jsonl", "csv"]
SinkOutcome = Literal["delivered", "written", "duplicate"]


@dataclass(frozen=True, slots=True)
class SinkResult:
    sink: SinkName
    outcome: SinkOutcome  # webhook: delivered; files: written, or duplicate (already there)
    attempts: int = 1
    status: int | None = None  # the webhook's HTTP status


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    idempotency_key: str
    sinks: tuple[SinkResult, ...]

    def outputs(self) -> dict[str, Any]:
        """For the journal: {"idempotency_key": ..., "webhook": "delivered", "jsonl": ...}."""
        return {"idempotency_key": self.idempotency_key} | {s.sink: s.outcome for s in self.sinks}


def check_crm(crm: Crm, env: Mapping[str, str], source: str = "the playbook") -> bytes | None:
    """The webhook's signing secret from `env`; None without a webhook. ConfigError (naming
    the file and the variable, never a value) when a webhook has no usable secret."""
    if not crm.webhook_url:
        return None
    if not crm.secret_env:
        raise ConfigError(
            f"{source}: crm.webhook_url is set but crm.secret_env is not; name the environment "
            "variable that holds the webhook's signing secret, like CRM_WEBHOOK_SECRET."
        )
    value = env.get(crm.secret_env, "")
    if not value.strip():
        raise ConfigError(
            f"{source}: crm.webhook_url needs the signing secret in the environment variable "
            f"{crm.secret_env}, which is {'empty' if crm.secret_env in env else 'not set'}; "
            "set it to the secret the CRM checks signatures with, then run again."
        )
    return value.encode("utf-8")


class CrmDelivery:
    """Every configured CRM sink for one run. Construct (ConfigError), enter, deliver, exit."""

    def __init__(
        self,
        crm: Crm,
        *,
        env: Mapping[str, str],
        source: str = "the playbook",
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Random = _random.random,
        clock: Clock = time.time,
        backoff: RetryPolicy = DEFAULT_BACKOFF,
    ) -> None:
        secret = check_crm(crm, env, source)
        self.crm = crm
        self._clock = clock
        self._webhook: WebhookSink | None = None
        if crm.webhook_url and secret is not None:
            register_secret(secret.decode("utf-8"))
            self._webhook = WebhookSink(
                crm.webhook_url,
                secret,
                timeout=crm.timeout_seconds,
                max_attempts=crm.max_attempts,
                session=session,
                sleep=sleep,
                random=random,
                clock=clock,
                backoff=backoff,
            )
        self._files: list[tuple[SinkName, FileSink]] = []
        if crm.jsonl_path is not None:
            self._files.append(("jsonl", JsonlSink(crm.jsonl_path)))
        if crm.csv_path is not None:
            self._files.append(("csv", CsvSink(crm.csv_path)))
        self._open = False

    @property
    def sinks(self) -> tuple[str, ...]:
        """What the records go to, for logs: "webhook https://crm.example.com", "jsonl <path>"."""
        named = [f"{name} {sink.path}" for name, sink in self._files]
        if self._webhook is not None:
            named.append(f"webhook {self._webhook.origin}")
        return tuple(named)

    async def __aenter__(self) -> Self:
        try:
            for _, sink in self._files:
                await asyncio.to_thread(sink.open)
            if self._webhook is not None:
                await self._webhook.open()
        except BaseException:
            await self.aclose()
            raise
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._open = False
        for _, sink in self._files:
            sink.close()
        if self._webhook is not None:
            await self._webhook.close()

    async def announce(
        self, fields: Mapping[str, Any], *, run_id: str, portal_url: str
    ) -> DeliveryResult:
        """Build the record from resolved AnnounceCrm fields (time: now) and deliver it."""
        record = build_record(fields, run_id=run_id, portal_url=portal_url, at=self._clock())
        return await self.deliver(record)

    async def announce_update(
        self,
        fields: Mapping[str, Any],
        changes: Sequence[Mapping[str, str]],
        *,
        run_id: str,
        portal_url: str,
    ) -> DeliveryResult:
        """The `client_updated` record of a client announced before, to the webhook and the
        JSONL file (not the CSV file, whose columns are the onboarding record's)."""
        record = build_update_record(
            fields, changes, run_id=run_id, portal_url=portal_url, at=self._clock()
        )
        return await self.deliver(record, csv=False)

    async def deliver(self, record: Mapping[str, Any], *, csv: bool = True) -> DeliveryResult:
        """Give `record` to every sink (the CSV file only with `csv`: its columns are the
        onboarding record's); CrmError when any of them finally failed."""
        if not self._open:
            raise RuntimeError("CrmDelivery is used outside its `async with` block")
        key = str(record["idempotency_key"])
        results: list[SinkResult] = []
        failures: list[CrmError] = []
        for name, sink in self._files:
            if name == "csv" and not csv:
                continue
            try:
                written = await asyncio.to_thread(sink.write, record)
            except CrmError as error:
                failures.append(error)
            else:
                results.append(SinkResult(name, "written" if written else "duplicate"))
        if self._webhook is not None:
            try:
                receipt = await self._webhook.send(record)
            except CrmError as error:
                failures.append(error)
            else:
                results.append(SinkResult("webhook", "delivered", receipt.attempts, receipt.status))
        if failures:
            raise CrmError(
                "; ".join(f.message for f in failures),
                transient=all(f.transient for f in failures),
            )
        return DeliveryResult(key, tuple(results))
