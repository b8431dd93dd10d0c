"""The skeleton step of a client row: the content of a prepared folder copied into the room by
one copy operation (PUT files/fileops/copy with content, polled to its end, docspace-api.md 13).

The skeleton (the playbook's room.skeleton: a folder in a room the account can read) is read
once per run, folders within folders. A room this run created is known to be empty: its
skeleton costs the one copy and no read. Any other room is compared with the skeleton, item by
item down the folders: nothing is sent when every item is there; otherwise one copy, which
skips the titles already there and merges into the folders found, so only the missing items
land. After an uncertain copy (its answer lost, or not finished within the poll's window) the
room is looked at again before copying again, as every create is (LookAgain).

While the skeleton is not in the portal (read once per run), the playbook's folders and copies
run in its place, each as its own step under its own key (folder:<t>, copy:<t>), as they do
without a skeleton; the row's note says so. Without folders or copies to make instead, the
row fails with the sentence that names the missing skeleton.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bulk_onboard.api.wire import stored_title
from bulk_onboard.engine.actions.client import ClientActions
from bulk_onboard.engine.context import Context
from bulk_onboard.engine.exactly_once import ExactlyOnce, Look
from bulk_onboard.engine.row import Outcome, RowState, StepDone
from bulk_onboard.errors import RowRefused
from bulk_onboard.model.outputs import SkeletonOut
from bulk_onboard.model.steps import CopyFile, CopySkeleton, EnsureFolder, FolderPath

MAX_DEPTH = 32  # folders within folders read, at most


@dataclass(frozen=True, slots=True)
class Tree:
    """A folder's content as titles: its sub-folders (each a Tree) and its files."""

    id: int
    folders: tuple[tuple[str, Tree], ...]
    files: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.files) + sum(1 + sub.size for _, sub in self.folders)


@dataclass(slots=True)
class InRoom:
    """The skeleton's items a room holds (ids, down the folders), and how many are missing."""

    folders: list[int]
    files: list[int]
    missing: int = 0

    @property
    def found(self) -> SkeletonOut:
        return SkeletonOut(tuple(self.folders), tuple(self.files))


class SkeletonActions:
    """The skeleton step: find the skeleton once, compare, copy what is missing."""

    def __init__(self, ctx: Context, once: ExactlyOnce) -> None:
        self.ctx = ctx
        self.once = once
        self._trees: dict[FolderPath, Tree | str] = {}  # a tree, or why it was not found
        self._lock = asyncio.Lock()

    async def skeleton(self, state: RowState, step: CopySkeleton, look: Look) -> StepDone:
        ctx = self.ctx
        room_id = int(ctx.resolve(step.room, state))
        try:
            tree = await self._tree(step.source)
        except RowRefused as missing:
            if not step.fallback:
                raise
            return await self._per_step(state, step, str(missing))
        empty = room_id in ctx.fresh_rooms and not look.again
        if not empty:
            last: list[InRoom] = []

            async def complete() -> SkeletonOut | None:
                last[:] = [await self._in_room(room_id, tree)]
                return last[0].found if last[0].missing == 0 else None

            found = await (self.once.find(look, complete) if look.again else complete())
            if found is not None:
                return StepDone.of(found, "found")
            empty = last[0].missing == tree.size
        outcome: Outcome = "created" if empty else "changed"
        self.once.writing(state, step.key, outcome)
        await ctx.client.copy_into(room_id, folder_ids=[tree.id], content=True)
        ctx.contents.forget(room_id)
        # what is in place now, by id down the folders: what undo knows the run put there
        return StepDone.of((await self._in_room(room_id, tree)).found, outcome)

    async def _per_step(self, state: RowState, step: CopySkeleton, missing: str) -> StepDone:
        """The skeleton is not in the portal: the playbook's folders and copies, each as its
        own step (journalled, looked for again, undone as without a skeleton)."""
        state.note(f"{missing}; the playbook's folders and copies were made step by step")
        steps = ClientActions(self.ctx, self.once)
        for sub in step.fallback:
            action = steps.folder if isinstance(sub, EnsureFolder) else steps.copy
            await self.once.run(state, sub, action)
        ids = {sub.key: int(state.outputs[sub.key]["id"]) for sub in step.fallback}
        made = [state.outcomes.get(sub.key) for sub in step.fallback]
        out = SkeletonOut(
            tuple(ids[sub.key] for sub in step.fallback if isinstance(sub, EnsureFolder)),
            tuple(ids[sub.key] for sub in step.fallback if isinstance(sub, CopyFile)),
        )
        return StepDone.of(out, "created" if "created" in made else "found")

    async def _in_room(self, room_id: int, tree: Tree) -> InRoom:
        seen = InRoom([], [])
        await _look(self.ctx, room_id, tree, seen, 0)
        return seen

    async def _tree(self, path: FolderPath) -> Tree:
        """The skeleton's content, read once per run (or why it is not there)."""
        async with self._lock:
            if path not in self._trees:
                try:
                    self._trees[path] = await self._read_tree(path)
                except RowRefused as exc:
                    self._trees[path] = str(exc)
        tree = self._trees[path]
        if isinstance(tree, str):
            raise RowRefused(tree)
        return tree

    async def _read_tree(self, path: FolderPath) -> Tree:
        rooms = await self.ctx.rooms.by_title(path.room_title)
        if not rooms:
            raise RowRefused(
                f'the skeleton\'s room "{path.room_title}" does not exist in the portal (or the '
                "account cannot read it); create it or fix room.skeleton in the playbook"
            )
        folder_id = rooms[0].id
        for title in path.folders:
            items = await self.ctx.client.items(folder_id)
            found = [f.id for f in items.folders if f.title == stored_title(title)]
            if not found:
                raise RowRefused(
                    f'the skeleton folder "{path}" is not in the portal ("{title}" is missing); '
                    "create it or fix room.skeleton in the playbook"
                )
            folder_id = found[0]
        return await _read(self.ctx, folder_id, 0)


async def _read(ctx: Context, folder_id: int, depth: int) -> Tree:
    if depth > MAX_DEPTH:
        raise RowRefused(f"the skeleton has folders more than {MAX_DEPTH} deep; flatten it")
    items = await ctx.client.items(folder_id)
    folders = tuple([(f.title, await _read(ctx, f.id, depth + 1)) for f in items.folders])
    return Tree(folder_id, folders, frozenset(f.title for f in items.files))


async def _look(ctx: Context, folder_id: int, tree: Tree, seen: InRoom, depth: int) -> None:
    """The tree's items (folders, files, and what is inside the folders) in the folder: their
    ids into `seen`, and how many are not there."""
    items = await ctx.client.items(folder_id)
    files = {f.title: f.id for f in items.files}
    folders = {f.title: f.id for f in items.folders}
    for title in sorted(tree.files):
        if title in files:
            seen.files.append(files[title])
        else:
            seen.missing += 1
    for title, sub in tree.folders:
        if title not in folders:
            seen.missing += 1 + sub.size
            continue
        seen.folders.append(folders[title])
        if depth < MAX_DEPTH and sub.size:
            await _look(ctx, folders[title], sub, seen, depth + 1)
