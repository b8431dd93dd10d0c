"""A generic worker pool: one TaskGroup, a bounded queue, N workers, a graceful stop.

It knows nothing of DocSpace. Items run concurrently; what an item does inside is the
worker's business. The first stop request (the command line routes SIGINT and SIGTERM to it)
stops taking new items and lets the ones in flight finish; a second one cancels them. Items
never started are handed to `on_skipped` and items cancelled to `on_cancelled`, when the caller
asks: one that keeps its own account (the run's rows) need not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Stop:
    """Shared stop state of a run: asked once = drain, asked twice = cancel."""

    def __init__(self) -> None:
        self.requests = 0
        self.reason: str | None = None
        self.in_flight = 0  # rows being worked on now, across the pools of the run
        # when the writes the run waits to see landed may land until (time.monotonic), one per
        # write; the run's phases say (a stop waits for them, a second one does not)
        self.uncertain: Callable[[], list[float]] = list
        self._cancel_hooks: list[Callable[[], None]] = []
        self._request_hooks: list[Callable[[Stop, str], None]] = []

    @property
    def requested(self) -> bool:
        return self.requests > 0

    def request(self, reason: str) -> None:
        self.requests += 1
        if self.reason is None:
            self.reason = reason
        for listener in list(self._request_hooks):
            listener(self, reason)
        if self.requests >= 2:
            for hook in list(self._cancel_hooks):
                hook()

    def on_request(self, listener: Callable[[Stop, str], None]) -> None:
        """Call `listener(stop, reason)` at every request, before it takes effect (so whoever
        watches can say at once what the stop will do)."""
        self._request_hooks.append(listener)

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        self._cancel_hooks.append(hook)
        return lambda: self._cancel_hooks.remove(hook)


class Pool(Generic[T, R]):
    """Run `work(item)` for every item with at most `concurrency` at once."""

    def __init__(
        self,
        work: Callable[[T], Awaitable[R]],
        *,
        concurrency: int,
        stop: Stop,
        on_done: Callable[[T, R], None],
        on_skipped: Callable[[T], None] | None = None,
        on_cancelled: Callable[[T], None] | None = None,
        weight: Callable[[T], int] = lambda item: 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._work = work
        self._concurrency = concurrency
        self._stop = stop
        self._on_done = on_done
        self._on_skipped = on_skipped or _ignore
        self._on_cancelled = on_cancelled or _ignore
        self._weight = weight

    async def run(self, items: Iterable[T]) -> None:
        queue: asyncio.Queue[T] = asyncio.Queue(maxsize=self._concurrency * 2)
        iterator = iter(items)
        tasks: list[asyncio.Task[None]] = []

        def cancel_all() -> None:
            for task in tasks:
                task.cancel()

        remove_hook = self._stop.on_cancel(cancel_all)
        try:
            # A child cancelled by a stop is ignored by the TaskGroup; a real error propagates.
            async with asyncio.TaskGroup() as group:
                workers = [group.create_task(self._worker(queue)) for _ in range(self._concurrency)]
                producer = group.create_task(self._produce(iterator, queue, workers))
                tasks.extend([*workers, producer])
        finally:
            remove_hook()
        # Whatever was queued or never taken from the iterator was not started.
        while not queue.empty():
            self._on_skipped(queue.get_nowait())
        for item in iterator:
            self._on_skipped(item)

    async def _produce(
        self, iterator: Iterator[T], queue: asyncio.Queue[T], workers: list[asyncio.Task[None]]
    ) -> None:
        for item in iterator:
            if self._stop.requested:
                self._on_skipped(item)
                break
            try:
                await queue.put(item)
            except asyncio.CancelledError:
                self._on_skipped(item)
                raise
        await queue.join()
        for worker in workers:
            worker.cancel()

    async def _worker(self, queue: asyncio.Queue[T]) -> None:
        while True:
            item = await queue.get()
            try:
                if self._stop.requested:
                    self._on_skipped(item)
                    continue
                rows = self._weight(item)
                self._stop.in_flight += rows
                try:
                    result = await self._work(item)
                except asyncio.CancelledError:
                    self._on_cancelled(item)
                    raise
                finally:
                    self._stop.in_flight -= rows
                self._on_done(item, result)
            finally:
                queue.task_done()


def _ignore(item: object) -> None:
    pass
