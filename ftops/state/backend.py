"""Where the state lives: the seam between ``LockStore`` (what the state means) and a storage engine.

A backend stores three things for one project: the canonical lock document (``ftops.lock`` text), a small
append-only journal of intent records written durably before every non-idempotent API call, and the run
lock (one mutating run at a time, with an owner and a lease). ``file`` keeps today's layout (``ftops.lock``
in git, ``.ftops/``); remote backends (``postgres``, ``s3``) keep all three on a server so several machines
see one state and one run lock. Every write of the document is a compare-and-swap on the version read, so a
write over a state that moved underneath fails with :class:`StateConflict` instead of losing a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ftops.errors import StateError


@dataclass(frozen=True)
class StoredState:
    text: str  # the canonical lock document
    version: str  # opaque: what the next ``write`` must name as ``expected`` (file digest, row serial, ETag)


class StateConflict(StateError):
    """The stored document is not the version this run read: another run wrote it. Re-plan."""


class StateBackend(Protocol):
    def describe(self) -> str:
        """Where the state is, for messages (``file ftops.lock``, ``postgres db@host table …``): never a secret."""
        ...

    def read(self) -> StoredState | None:
        """The current document, or None when the project has no state yet."""
        ...

    def write(self, text: str, *, expected: str | None) -> str:
        """Replace the document atomically and durably if it is still at ``expected`` (None: must not exist).

        Returns the new version. Raises :class:`StateConflict` when the stored version differs.
        """
        ...

    def append_journal(self, record: str) -> None:
        """Durably append one record (one line of JSON, no newline inside) before returning."""
        ...

    def read_journal(self) -> list[str]:
        """Every record appended since the last ``clear_journal``, in order (a torn last record is dropped)."""
        ...

    def clear_journal(self) -> None:
        """Drop the journal: called only after a document write that contains everything it recorded."""
        ...
