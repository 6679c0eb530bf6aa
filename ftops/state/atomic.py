"""Crash-safe file replacement shared by the lock file, the run lock and saved plans.

The rule is the classic one: write a temp file in the *same* directory (so the rename never crosses a file
system), flush and fsync it, ``os.replace`` it over the target, then fsync the directory so the rename itself
survives a power cut. At every instant the target is either the complete old text or the complete new text,
which is what lets apply be killed with SIGKILL at any point without corrupting ``ftops.lock``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path

from ftops.errors import StateError

TEMP_SUFFIX = ".tmp"


def temp_name_for(path: Path) -> Path:
    """A unique sibling temp path; the pid in the name lets a later run tell a dead writer's leftovers apart."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")


def fsync_dir(directory: Path) -> None:
    """Persist a rename/creation in ``directory``; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (e.g. certain network mounts) refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def write_temp(path: Path, text: str) -> Path:
    """A new sibling temp file of ``path`` holding ``text`` (UTF-8), fsynced; the caller moves it into place."""
    tmp = temp_name_for(path)
    # 0o666 & ~umask, like a normal file: mkstemp's 0o600 would surprise users of a committed lock file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so readers and crashes only ever see the old or the new content."""
    path = Path(path)
    tmp = write_temp(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def remove_dead_temp_files(path: Path) -> list[Path]:
    """Delete temp files next to ``path`` left by writers that were killed (their pid no longer runs)."""
    removed: list[Path] = []
    for candidate in path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"):
        parts = candidate.name[len(path.name) + 2 :].split(".")
        if not parts or not parts[0].isdigit():
            continue
        if pid_alive(int(parts[0])):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (signal 0 probes without touching it)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # signal 0 would terminate the process on Windows; stay on the safe side
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True  # cannot tell: assume alive, the safe answer for locks
    return True


_CAUSES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space on that file system, then run the command again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space or raise the quota, then run the command again"),
    errno.EROFS: (
        "the file system is read-only",
        "run ftops from a writable checkout (in CI, a writable workspace), or point `lock` in ftops.toml at a "
        "writable place",
    ),
    errno.EACCES: (
        "permission denied",
        "make the directory and the lock file writable by this user (e.g. `chmod u+w`), or run ftops as their "
        "owner",
    ),
    errno.EPERM: ("the operation is not permitted", "make the directory and the lock file writable by this user"),
}


def state_write_error(exc: OSError, *, action: str, path: Path) -> StateError:
    """A user-facing error for an OSError while saving state: the cause in words, and the fix.

    The state on disk is still consistent when this is raised (writes are atomic and the journal is
    append-only), and the message says so, so the user knows that fixing the cause and re-running is enough.
    """
    cause, fix = _CAUSES.get(exc.errno or 0, (exc.strerror or str(exc), "fix the cause, then run the command again"))
    return StateError(
        f"cannot {action}: {cause}",
        where=str(path),
        hint=f"{fix}; the state on disk is consistent (the last complete lock file plus its journal), and the "
        "next run picks up where this one stopped",
    )
