"""Invitations of people without names: POST people/invite in batches.

The people of the whole input are invited before the people phase, in full batches (50
addresses per culture and request): the answer lists every activation-pending user of the
portal, so fewer requests also means far fewer bytes. Anyone else is collected for a moment
and sent with whoever comes along. Entries of one request run in order and a refusal stops it
with the earlier ones invited (docspace-api.md 10.5): those count as invited, the refused one
fails its row, the rest are sent again.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import Confirm, Look
from bulk_onboard.errors import PermanentError, RowRefused
from bulk_onboard.model.records import UserType
from bulk_onboard.model.words import USER_TYPE_NAMES


@dataclass
class _Pending:
    email: str
    user_type: int
    done: asyncio.Future[None]


@dataclass
class _Batch:
    items: list[_Pending] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class UpFrontJournal(Protocol):
    """Where the invitations sent up front are journalled, before and after, for the rows
    that asked for them: so a resume, a retry and undo see them even when the run stops
    before the people phase reaches those rows."""

    def sending(self, email: str) -> None: ...

    async def sent(self, email: str, error: BaseException | None) -> BaseException | None:
        """Journal what the invitation did; returns what failed reading the person back."""


class Inviter:
    """Invite people without names: those of the whole input up front, in full batches (one
    POST people/invite per culture and 50 addresses); any others as they come, collected for
    a moment."""

    def __init__(
        self, ctx: Context, once: Confirm, *, batch_size: int = 50, linger: float = 0.05
    ) -> None:
        self.ctx = ctx
        self.once = once  # a batch is sent until it is answered, looking again after ambiguity
        self.batch_size = batch_size
        self.linger = linger
        self._open: dict[str | None, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()
        # Addresses invited up front: None when the portal took them, else what failed.
        self._up_front: dict[str, BaseException | None] = {}

    async def invite_all(
        self,
        wanted: Sequence[tuple[str, int, str | None]],
        journal: UpFrontJournal | None = None,
    ) -> int:
        """(e-mail, type, culture) of people without names, before the people phase: those
        the portal does not know are invited in full batches per culture, each journalled
        before it is sent and after it is answered. Returns the number of invitation
        requests sent."""
        by_culture: dict[str | None, list[_Pending]] = defaultdict(list)
        loop = asyncio.get_running_loop()
        for start in range(0, len(wanted), self.batch_size):
            chunk = wanted[start : start + self.batch_size]
            found = await asyncio.gather(
                *(self.ctx.people.get(email) for email, _, _ in chunk), return_exceptions=True
            )
            for (email, user_type, culture), person in zip(chunk, found, strict=True):
                if person is None:  # unknown to the portal (a failed look-up: left for later)
                    by_culture[culture].append(_Pending(email, user_type, loop.create_future()))
        batches = [
            (pending[start : start + self.batch_size], culture)
            for culture, pending in by_culture.items()
            for start in range(0, len(pending), self.batch_size)
        ]
        for batch, _ in batches:
            for pending in batch:
                if journal is not None:
                    journal.sending(pending.email)
        await asyncio.gather(*(self._send(batch, culture) for batch, culture in batches))
        answered = [pending for batch, _ in batches for pending in batch]
        for pending in answered:
            self._up_front[pending.email.lower()] = pending.done.exception()
        if journal is not None:
            read = await asyncio.gather(
                *(journal.sent(p.email, p.done.exception()) for p in answered)
            )
            for pending, error in zip(answered, read, strict=True):
                if error is not None:  # invited, but not read back: the row fails on it
                    self._up_front[pending.email.lower()] = error
        return len(batches)

    def invited_up_front(self, email: str) -> bool:
        """Was this address invited up front? Raises what failed if that invitation did."""
        if email.lower() not in self._up_front:
            return False
        error = self._up_front.pop(email.lower())
        if error is not None:
            raise error
        return True

    async def invite(self, email: str, user_type: int, culture: str | None) -> None:
        loop = asyncio.get_running_loop()
        pending = _Pending(email, user_type, loop.create_future())
        batch = self._open.setdefault(culture, _Batch())
        batch.items.append(pending)
        if len(batch.items) >= self.batch_size:
            self._flush(culture)
        elif batch.timer is None:
            batch.timer = loop.call_later(self.linger, self._flush, culture)
        await pending.done

    def _flush(self, culture: str | None) -> None:
        batch = self._open.pop(culture, None)
        if batch is None:
            return
        if batch.timer is not None:
            batch.timer.cancel()
        # A batch belongs to no one row: it runs in a context of its own, so its log lines do
        # not carry the row whose invitation happened to open the batch.
        task = asyncio.get_running_loop().create_task(
            self._send(batch.items, culture), context=contextvars.Context()
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, items: list[_Pending], culture: str | None) -> None:
        waiting = list(items)
        refused_before: str | None = None
        while waiting:
            attempt = self._attempt(waiting, culture)
            try:
                await self.once.confirm(attempt, emails=len(waiting), step="invite")
            except PermanentError as exc:
                waiting, refused_before = await self._after_refusal(waiting, exc, refused_before)
            except Exception as exc:
                _fail(waiting, exc)
                return
            else:
                for pending in waiting:
                    pending.done.set_result(None)
                return

    def _attempt(
        self, waiting: list[_Pending], culture: str | None
    ) -> Callable[[Look], Awaitable[None]]:
        """One try at inviting `waiting`; after an ambiguous try, those the portal took are
        done and dropped from `waiting` (in place), only the others are invited again."""

        async def attempt(look: Look) -> None:
            if look.again:
                still = []
                for pending in waiting:
                    if await self.ctx.people.refresh(pending.email) is None:
                        still.append(pending)
                    else:
                        pending.done.set_result(None)
                waiting[:] = still
            if not waiting:
                return
            try:
                # who was invited is looked up by address, so the answer (every pending
                # user of the portal) is not read
                await self.ctx.client.invite_users(
                    [(p.email, p.user_type) for p in waiting], culture=culture, answer=False
                )
            finally:
                # Sent: whatever the answer, the portal may have them now (pending), so
                # nobody goes by the prefetch's "unknown" (a share by e-mail would mail
                # them a second time, docspace-api.md 10.8).
                for pending in waiting:
                    self.ctx.people.forget(pending.email)

        return attempt

    async def _after_refusal(
        self, waiting: list[_Pending], exc: PermanentError, refused_before: str | None
    ) -> tuple[list[_Pending], str | None]:
        """Entries run in order and an error stops the batch (docspace-api.md 10.5): those
        before the refused one were invited (and mailed), that one fails, the rest go again
        (returned, with the refusal to compare the next one with). The same refusal twice
        with nobody taken is the batch's own (e.g. "Invitation limit is exceeded"): it fails
        them all."""
        try:
            still = [p for p in waiting if await self.ctx.people.refresh(p.email) is None]
        except Exception as error:
            _fail(waiting, error)
            return [], None
        for pending in waiting:
            if pending not in still:
                pending.done.set_result(None)
        if not still:
            return [], None
        if len(still) == len(waiting) and refused_before == exc.message:
            _fail(still, exc)
            return [], None
        _fail(still[:1], _refused(still[0], exc))
        return still[1:], exc.message if len(still) == len(waiting) else None


def _refused(pending: _Pending, exc: PermanentError) -> Exception:
    if exc.status != 403:
        return exc
    return RowRefused(
        f"the portal refused to invite {pending.email} as a {type_name(pending.user_type)} "
        f"({exc.message}): a room admin may invite users only, a DocSpace admin also room "
        "admins, only the owner DocSpace admins; change the type or invite them in DocSpace"
    )


def _fail(items: Sequence[_Pending], error: BaseException) -> None:
    for pending in items:
        if not pending.done.done():
            pending.done.set_exception(error)


def type_name(user_type: int) -> str:
    """The word the sheet uses for a user type."""
    try:
        return USER_TYPE_NAMES[UserType(user_type)]
    except ValueError:
        return str(user_type)
