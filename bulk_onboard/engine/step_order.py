"""Which of a row's steps may run now: pure, from what each step waits for.

A step waits for the steps of the same plan its Refs name (a folder for the room, a copy for
its folder, the CRM record for everything it carries) and for those its kind's `after` in the
step table names where no Ref shows the order the portal needs (the share after the contact's
naming, the CRM announcement after all DocSpace work). Steps that wait for nothing not yet
done run at once, side by side; a Ref to another row's step is that row's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import fields
from typing import TypeVar

from bulk_onboard.model.steps import Plan, Ref, Step

T = TypeVar("T")

EVERY = "*"  # an `after` entry: every other step of the row


def refs_in(value: object) -> Iterator[Ref]:
    """The Refs a step's field holds (directly or in tuples; not in nested steps)."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from refs_in(item)


def named(pattern: str, key: str) -> bool:
    """Whether an `after` entry names a step key: a key, a kind's prefix ("folder:"), or `*`."""
    return pattern in (EVERY, key) or (pattern.endswith(":") and key.startswith(pattern))


def waits_for(
    steps: Sequence[Step], after: Mapping[type[Step], tuple[str, ...]]
) -> dict[str, frozenset[str]]:
    """Each step's key -> the keys of the other steps among `steps` it must follow."""
    keys = [step.key for step in steps]
    needs: dict[str, frozenset[str]] = {}
    for step in steps:
        refs = {
            ref.step
            for f in fields(step)
            for ref in refs_in(getattr(step, f.name))
            if ref.row is None
        }
        patterns = after.get(type(step), ())
        needs[step.key] = frozenset(
            key
            for key in keys
            if key != step.key and (key in refs or any(named(p, key) for p in patterns))
        )
    return needs


def ready(
    steps: Sequence[Step], needs: Mapping[str, frozenset[str]], done: Set[str], started: Set[str]
) -> tuple[Step, ...]:
    """The steps not started whose every awaited step is done, in plan order."""
    return tuple(
        step
        for step in steps
        if step.key not in started and step.key not in done and needs[step.key] <= done
    )


def _with_fallback(step: Step) -> Iterator[str]:
    """A step's key after those of the steps it may run in its place (its `fallback`)."""
    for sub in getattr(step, "fallback", ()):
        yield from _with_fallback(sub)
    yield step.key


def in_plan_order(plan: Plan, by_key: dict[str, T]) -> None:
    """Put `by_key` (a row's outputs or outcomes, as its steps finished) in the order its
    plan lists them (sub-steps before the step they run for): the report's order."""
    rank = {key: n for n, key in enumerate(k for s in plan.steps for k in _with_fallback(s))}
    last = len(rank)
    ordered = sorted(by_key.items(), key=lambda item: rank.get(item[0], last))
    by_key.clear()
    by_key.update(ordered)
