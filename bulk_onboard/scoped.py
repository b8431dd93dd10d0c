"""Values that belong to one run, in a process that may run several at once.

A run's own values (the watchers of its requests, its repeated-warning counts) live in
ContextVars, so every task the run starts inherits them and another run's tasks do not see
them. A task started in a context of its own (`create_task(..., context=Context())`, as the
invitation batches are, so their log lines carry no row) would lose them: the vars named
with `carry` are copied into such a task from the context that starts it, by a task factory
that `follow()` puts on the running loop (once per loop, keeping any factory it had).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_carried: list[contextvars.ContextVar[Any]] = []
_MISSING = object()


def carry(var: contextvars.ContextVar[T]) -> contextvars.ContextVar[T]:
    """Copy `var` into tasks started in a context of their own."""
    _carried.append(var)
    return var


class _Factory:
    """The loop's task factory: the carried vars follow a task into its own context."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Future[Any]:
        if context is not None:
            for var in _carried:
                value = var.get(_MISSING)
                if value is not _MISSING and var not in context:
                    context.run(var.set, value)
        if self.previous is not None:
            if context is None:
                return self.previous(loop, coro)  # type: ignore[no-any-return]
            return self.previous(loop, coro, context=context)  # type: ignore[no-any-return]
        return asyncio.Task(coro, loop=loop, context=context)


def follow() -> None:
    """Make the carried vars follow tasks on the running loop (no loop: nothing to do)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    factory = loop.get_task_factory()
    if not isinstance(factory, _Factory):
        loop.set_task_factory(_Factory(factory))  # type: ignore[arg-type]
