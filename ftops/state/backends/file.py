"""The ``file`` state backend: ``ftops.lock`` next to the manifests and its journal in ``.ftops/``.

The document is replaced atomically (temp file, fsync, rename, fsync of the directory); its version is the
sha256 of the bytes read, and a write first checks that the file still has that digest (compare-and-swap:
a lock replaced under a run, e.g. by a ``git checkout``, is refused instead of overwritten). The journal
is an append-only file of JSON lines, each fsynced before ``append_journal`` returns; it exists only while
it holds records the lock file does not, so its presence means "a run was interrupted". Only a regular
file is ever read as the lock (a FIFO would block forever, ``/dev/zero`` never ends), within a size bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from ftops.errors import StateError
from ftops.state.atomic import atomic_write_text, fsync_dir, state_write_error
from ftops.state.backend import StateConflict, StoredState

STATE_DIR_NAME = ".ftops"
JOURNAL_SUFFIX = ".journal"
# A lock of 10,000 resources is about 5 MB; anything near this bound is not a lock ftops wrote.
MAX_LOCK_BYTES = 256 * 1024 * 1024
MAX_JOURNAL_BYTES = 1024 * 1024 * 1024
_READ_CHUNK = 1024 * 1024

# Test seam: called with the operation ("write", "append", "clear") before it touches the disk, so tests can
# inject the OSError a full disk or a read-only mount would raise (tests run as root, where chmod does not).
FaultHook = Callable[[str], None]


def journal_path_for(lock_path: Path) -> Path:
    lock_path = Path(lock_path)
    return lock_path.parent / STATE_DIR_NAME / f"{lock_path.name}{JOURNAL_SUFFIX}"


def read_regular_file(path: Path, *, what: str, max_bytes: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (None if absent); a clear StateError for anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO must not block
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _not_a_file(path, what, "a directory") from None
    except PermissionError:
        raise StateError(f"cannot read the {what}: permission denied", where=str(path),
                         hint="make it readable by this user, or run ftops as its owner") from None
    except OSError as exc:
        raise StateError(f"cannot read the {what}: {exc.strerror or exc}", where=str(path)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _not_a_file(path, what, "a directory")
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
            raise _not_a_file(path, what, kind)
        if info.st_size > max_bytes:
            raise _too_big(path, what, max_bytes)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, _READ_CHUNK):
            total += len(chunk)
            if total > max_bytes:  # grew while being read
                raise _too_big(path, what, max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise StateError(f"cannot read the {what}: {exc.strerror or exc}", where=str(path)) from None
    finally:
        os.close(fd)


def _not_a_file(path: Path, what: str, kind: str) -> StateError:
    return StateError(f"the {what} path is {kind}, not a regular file", where=str(path),
                      hint="remove or rename it; ftops reads and writes the lock as a plain file")


def _too_big(path: Path, what: str, limit: int) -> StateError:
    return StateError(f"the {what} is larger than {limit // (1024 * 1024)} MiB: not a file ftops wrote",
                      where=str(path), hint="restore it with `git checkout -- ftops.lock`")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FileBackend:
    """State in files: the lock at ``lock_path``, the journal in ``.ftops/`` beside it."""

    # Process-wide fault hook for tests that drive the CLI (which builds its own backend); None in real use.
    fault_hook: FaultHook | None = None

    def __init__(self, lock_path: Path, *, faults: FaultHook | None = None) -> None:
        self.path = Path(lock_path)
        self.journal_path = journal_path_for(self.path)
        self._faults = faults
        self._journal_fd: int | None = None
        # Group commit: records are written in order by the caller, fsynced by whoever syncs first; a sync
        # covers every byte written before it. Counters are of bytes ever written by this backend.
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        # (inode, size, mtime) of the lock as last read or written by us, and its version: the CAS check
        # then costs a stat instead of re-hashing megabytes on every write.
        self._known: tuple[tuple[int, int, int], str] | None = None

    def describe(self) -> str:
        return f"file {self.path}"

    # -- the document ---------------------------------------------------------------------------------

    def read(self) -> StoredState | None:
        data = read_regular_file(self.path, what="lock file", max_bytes=MAX_LOCK_BYTES)
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(f"the lock file is not UTF-8 text (byte {exc.start})", where=str(self.path),
                             hint="restore it with `git checkout -- ftops.lock`") from None
        version = digest(data)
        self._remember(version)
        return StoredState(text=text, version=version)

    def _stat_key(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise state_write_error(exc, action="read the lock file", path=self.path) from None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _remember(self, version: str) -> None:
        key = self._stat_key()
        self._known = (key, version) if key is not None else None

    def _current_version(self) -> str | None:
        key = self._stat_key()
        if key is None:
            return None
        if self._known is not None and self._known[0] == key:
            return self._known[1]
        data = read_regular_file(self.path, what="lock file", max_bytes=MAX_LOCK_BYTES)
        return None if data is None else digest(data)

    def write(self, text: str, *, expected: str | None) -> str:
        current = self._current_version()
        if current != expected:
            raise StateConflict(
                "the lock file changed on disk while this run was using it"
                if current is not None else "the lock file was deleted while this run was using it",
                where=str(self.path),
                hint="another ftops run or a git checkout replaced it; run ftops plan again (nothing this run "
                "recorded is lost: it is in the journal in .ftops/ and adopted again by the next apply)",
            )
        data = text.encode("utf-8")
        try:
            self._fault("write")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)
        except OSError as exc:
            raise state_write_error(exc, action="write the lock file", path=self.path) from None
        version = digest(data)
        self._remember(version)
        return version

    # -- the journal ----------------------------------------------------------------------------------

    def _fault(self, operation: str) -> None:
        hook = self._faults if self._faults is not None else FileBackend.fault_hook
        if hook is not None:
            hook(operation)

    def _open_journal(self) -> int:
        if self._journal_fd is not None:
            return self._journal_fd
        self.journal_path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.journal_path.exists()
        fd = os.open(self.journal_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        size = os.lseek(fd, 0, os.SEEK_END)
        if size:  # never append after a record torn by a killed writer: cut it off first
            os.lseek(fd, max(0, size - 1), os.SEEK_SET)
            if os.read(fd, 1) != b"\n":
                os.lseek(fd, 0, os.SEEK_SET)
                head = os.read(fd, size)
                os.ftruncate(fd, head.rfind(b"\n") + 1)
        if created:
            fsync_dir(self.journal_path.parent)
        self._journal_fd = fd
        return fd

    def append_journal(self, record: str) -> None:
        self.sync_journal(self.write_journal(record))

    def write_journal(self, record: str) -> int:
        """Append one record without waiting for the disk; returns the ticket to pass to :meth:`sync_journal`.

        Callers write records in order (``LockStore`` does under its mutex) and sync outside it, so parallel
        steps share fsyncs instead of queueing behind each other's.
        """
        if "\n" in record:
            raise ValueError("a journal record is one line")
        data = (record + "\n").encode("utf-8")
        fd: int | None = None
        start = 0
        try:
            self._fault("append")
            fd = self._open_journal()
            start = os.lseek(fd, 0, os.SEEK_END)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError as exc:
            if fd is not None:  # a half-written record must not stay in front of the next one
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
            raise state_write_error(exc, action="record the change in the state journal",
                                    path=self.journal_path) from None
        self._written += len(data)
        return self._written

    def sync_journal(self, ticket: int) -> None:
        """Return once every record written up to ``ticket`` is on disk (one fsync may cover many callers)."""
        with self._sync_lock:
            if self._synced >= ticket or self._journal_fd is None:
                return  # covered by another caller's sync, or by a lock write that cleared the journal
            upto = self._written
            try:
                (getattr(os, "fdatasync", None) or os.fsync)(self._journal_fd)
            except OSError as exc:
                raise state_write_error(exc, action="record the change in the state journal",
                                        path=self.journal_path) from None
            self._synced = max(self._synced, upto)

    def read_journal(self) -> list[str]:
        data = read_regular_file(self.journal_path, what="state journal", max_bytes=MAX_JOURNAL_BYTES)
        if not data:
            return []
        lines = data.split(b"\n")
        # The last element is b"" after a complete record, or a record torn by a crash: dropped either way.
        return [line.decode("utf-8", errors="replace") for line in lines[:-1] if line.strip()]

    def clear_journal(self) -> None:
        with self._sync_lock:  # never close the descriptor under a sync in progress
            self._synced = self._written  # what the journal held is in the lock file now
            self.close()
        try:
            self._fault("clear")
            self.journal_path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise state_write_error(exc, action="clear the state journal", path=self.journal_path) from None
        fsync_dir(self.journal_path.parent)

    def close(self) -> None:
        """Release the journal's file descriptor (the journal itself stays as long as it holds records)."""
        if self._journal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._journal_fd)
            self._journal_fd = None



