"""Reading and writing ``ftops.lock``: deterministic JSON, atomic replacement, and errors that say how to recover.

The lock file is committed to git, so its text must only change when its meaning does: keys sorted, two-space
indent, a trailing newline, intents in a stable order, no "written at" timestamps. Writes go through
:func:`ftops.state.atomic.atomic_write_text` so a crash leaves either the previous or the next complete file.
Reading is strict (:mod:`ftops.state.lockschema`): every way the file can be unusable (truncated, garbage, a
git merge conflict, a newer format, wrong field types or ranges, missing keys, a different API, a FIFO or a
device instead of a file) becomes a :class:`~ftops.errors.StateError` with where and a hint, and the bad
file is never overwritten: the user's copy stays byte-identical so ``git`` or a backup can restore it.
A run records its changes in a journal first (:mod:`ftops.state.journal`); :func:`read_lock` replays it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ftops.errors import StateError
from ftops.redact import redact_url
from ftops.state.atomic import atomic_write_text
from ftops.state.backend import StateBackend, StoredState
from ftops.state.backends.file import FileBackend
from ftops.state.journal import replay
from ftops.state.lockschema import BACKUP_SUFFIX, backup_path_for, json_problem, parse_lock, restore_hint
from ftops.state.model import LockedResource, LockFile
from ftops.state.secrets import secret_paths

__all__ = [
    "BACKUP_SUFFIX",
    "LOCK_FILE_NAME",
    "CanonicalText",
    "backup_path_for",
    "check_endpoint",
    "dump_lock",
    "json_problem",
    "load_state",
    "new_lock",
    "parse_lock",
    "read_lock",
    "read_lock_file",
    "restore_hint",
    "scrub",
    "write_lock",
]

LOCK_FILE_NAME = "ftops.lock"


def new_lock(endpoint: str | None) -> LockFile:
    """A fresh lock for a project that has none yet: a new lineage, serial 0."""
    return LockFile(lineage=str(uuid.uuid4()), serial=0, endpoint=endpoint)


def _lock_payload(lock: LockFile) -> dict[str, Any]:
    data = lock.model_dump(mode="json")
    # Intents are appended from parallel apply steps; order them by time so two runs doing the same work
    # write the same text.
    data["intents"] = sorted(data["intents"], key=lambda i: (i["started_at"], i["id"]))
    if not data["token_counts"]:
        del data["token_counts"]  # a project that never counted tokens keeps the lock it had
    return data


def dump_lock(lock: LockFile) -> str:
    """The canonical text of a lock file (the same lock always gives byte-identical text)."""
    return json.dumps(_lock_payload(lock), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_RESOURCES_PLACEHOLDER = '\n  "resources": {}'  # the top-level key only: deeper keys are indented further


class CanonicalText:
    """:func:`dump_lock`, byte for byte, at the cost of what changed since the last call.

    Encoding 10,000 resources with an indent is the slow part of writing a lock (Python's JSON encoder has no
    C path for indented output). Resources are immutable, so each one's text is kept by identity and only
    new or replaced resources are encoded again; the rest of the document is small.
    """

    def __init__(self) -> None:
        self._fragments: dict[str, tuple[LockedResource, str]] = {}

    def render(self, lock: LockFile) -> str:
        fragments: dict[str, tuple[LockedResource, str]] = {}
        for address in sorted(lock.resources):
            resource = lock.resources[address]
            cached = self._fragments.get(address)
            if cached is None or cached[0] is not resource:
                body = json.dumps(resource.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
                text = "    " + json.dumps(address, ensure_ascii=False) + ": " + body.replace("\n", "\n    ")
                cached = (resource, text)
            fragments[address] = cached
        self._fragments = fragments
        rest = lock.model_copy(update={"resources": {}})
        head = dump_lock(rest)
        if not fragments:
            return head
        block = '\n  "resources": {\n' + ",\n".join(text for _, text in fragments.values()) + "\n  }"
        return head.replace(_RESOURCES_PLACEHOLDER, block, 1)


def scrub(lock: LockFile, *, where: str = LOCK_FILE_NAME) -> None:
    """Refuse to persist a lock that contains anything shaped like a credential (a bug upstream, never data)."""
    found = secret_paths(_lock_payload(lock))
    if found:
        raise StateError(
            f"refusing to write a secret-looking value into the lock file at {', '.join(found)}",
            where=where,
            hint="this is a bug in ftops (secrets must stay in environment variables); please report it",
        )


def write_lock(path: Path, lock: LockFile) -> None:
    """Atomically replace ``path`` with ``lock`` (temp file, fsync, rename, fsync of the directory)."""
    path = Path(path)
    scrub(lock, where=str(path))
    atomic_write_text(path, dump_lock(lock))


def read_lock_file(path: Path) -> LockFile | None:
    """The lock file at ``path`` exactly as written, without its journal (None when there is none)."""
    stored = FileBackend(path).read()
    return parse_lock(stored.text, where=str(path)) if stored is not None else None


def load_state(backend: StateBackend) -> tuple[LockFile | None, StoredState | None, int, int]:
    """The state a run starts from: the stored document with the journal replayed over it. Read-only.

    Returns (state, the stored document, journal records applied, journal records present). The journal is
    read first: a run writing meanwhile only ever moves the document forward, so the records read are either
    already in the document read after them (skipped) or continue it (applied); never a gap.
    """
    if isinstance(backend, FileBackend):
        where, journal_where = str(backend.path), str(backend.journal_path)
    else:
        where = backend.describe()
        journal_where = f"{where} (journal)"
    lines = backend.read_journal()
    stored = backend.read()
    lock = parse_lock(stored.text, where=where) if stored is not None else None
    lock, applied = replay(lock, lines, where=journal_where)
    return lock, stored, applied, len(lines)


def read_lock(path: Path) -> LockFile | None:
    """The state of the lock at ``path`` (None when the project has none yet), journal included.

    This is what the next run starts from: after an interrupted run, the last complete lock file with the
    changes its journal recorded since. Nothing is written.
    """
    return load_state(FileBackend(path))[0]


def check_endpoint(lock: LockFile | None, identity: str, *, where: str = LOCK_FILE_NAME) -> None:
    """Refuse to use a lock written against another API (ids in it mean nothing there)."""
    if lock is None or lock.endpoint is None or lock.endpoint == identity:
        return
    shown = redact_url(lock.endpoint)  # the lock is user-editable: never echo a secret put in its URL
    recorded = "the embedded local API" if lock.endpoint == "local" else shown
    current = "the embedded local API" if identity == "local" else identity
    env_value = "local" if lock.endpoint == "local" else shown
    raise StateError(
        f"the lock file belongs to {recorded}, but this run targets {current}",
        where=where,
        hint=(
            f"use the matching endpoint (FTOPS_ENDPOINT={env_value}), or keep one lock per API with a separate "
            "project directory (ftops -C DIR) or `lock` in ftops.toml"
        ),
    )
