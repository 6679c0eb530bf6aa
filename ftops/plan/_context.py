"""The working state of one plan build: inputs (desired, lock entries, live snapshot) and what was found.

The per-kind planners (``_files``, ``_jobs``, ``_models``) run in dependency order and append to the same
context, so a later kind can ask whether an earlier one already plans a change (a job whose training file is
re-uploaded depends on that upload; a model whose job is replaced is promoted).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ftops.client.models import RemoteJob
from ftops.desired import Desired
from ftops.fieldsets import share_fields_sets
from ftops.live import LiveSnapshot
from ftops.plan.model import Action, Change, Observation
from ftops.state.model import LockedResource


@dataclass
class PlanContext:
    desired: Desired
    locked: Mapping[str, LockedResource]
    live: LiveSnapshot
    replace: frozenset[str] = frozenset()  # --replace addresses
    changes: list[Change] = field(default_factory=list)
    drift: list[Observation] = field(default_factory=list)
    progress: list[Observation] = field(default_factory=list)
    problems: list[Observation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    adopted_jobs: dict[str, RemoteJob] = field(default_factory=dict)  # untracked live jobs this plan adopts
    _content: dict[str, str] | None = None

    def content_of(self, file_id: str) -> str | None:
        """The content sha256 of a live file id: from the lock, or from its content-addressed upload name.

        An upload is named ``<stem>.<sha256[:12]>.jsonl``; with the same name and byte count as a desired
        File it holds that File's content (the same rule that adopts identical uploads).
        """
        if self._content is None:
            content = {e.remote_id: e.fingerprint for e in self.locked.values() if e.kind == "file"}
            by_name = {(f.upload_name, f.bytes): f.sha256 for f in self.desired.files.values()}
            for remote in self.live.files.values():
                if remote.bytes is None:
                    continue  # the API may leave a file's size out: then its name alone proves nothing
                sha = by_name.get((remote.filename, remote.bytes))
                if sha is not None:
                    content.setdefault(remote.id, sha)
            self._content = content
        return self._content.get(file_id)
    # address → actions planned for it, kept by add(): asking per job was quadratic at 10,000 resources
    _actions: dict[str, set[Action]] = field(default_factory=dict)

    def lock(self, address: str) -> LockedResource | None:
        entry = self.locked.get(address)
        return entry if entry is not None and entry.kind == address.split(".", 1)[0] else None

    def removed(self, kind: str) -> Iterator[tuple[str, LockedResource]]:
        """Lock entries of one kind that no manifest declares any more, sorted by address."""
        wanted = set(self.desired.order)
        for address in sorted(self.locked):
            entry = self.locked[address]
            if entry.kind == kind and address.startswith(f"{kind}.") and address not in wanted:
                yield address, entry

    def actions(self, address: str) -> set[Action]:
        return set(self._actions.get(address, ()))

    def add(self, address: str, action: Action, **fields: Any) -> Change:
        change = Change(address=address, kind=address.split(".", 1)[0], action=action, **fields)
        share_fields_sets(change)  # a plan of 10,000 changes: their field sets were ~10 MB
        self.changes.append(change)
        self._actions.setdefault(address, set()).add(action)
        return change

    def observe_drift(self, address: str, remote_id: str | None, message: str, **fields: Any) -> None:
        self.drift.append(_observation(address=address, remote_id=remote_id, message=message, **fields))

    def observe_progress(self, address: str, remote_id: str | None, message: str) -> None:
        self.progress.append(_observation(address=address, remote_id=remote_id, message=message))

    def problem(self, address: str, remote_id: str | None, message: str) -> None:
        self.problems.append(_observation(address=address, remote_id=remote_id, message=message))


def _observation(**fields: Any) -> Observation:
    observation = Observation(**fields)
    share_fields_sets(observation)
    return observation
