"""OS errors that are the environment's fault (read-only directory, no space, no permission) → FtopsError.

Commands that write (``plan -o``, ``apply``, ``wait``, ``import``) create files in the project or state
directory. When the OS refuses, the user needs the cause and the fix, not "internal error": this turns
the few errno values that mean "your environment" into a :class:`~ftops.errors.FtopsError` naming the path.
Anything else stays an internal error (an ftops bug).
"""

from __future__ import annotations

import errno

from ftops.errors import FtopsError

_FIXES = {
    errno.EROFS: ("the file system is read-only",
                  "run ftops in a writable checkout, or point the state elsewhere (`lock` in ftops.toml, "
                  "`ftops -C DIR`); `plan -o` can write to a writable path such as /tmp/plan.json"),
    errno.EACCES: ("permission denied",
                   "make the directory writable for this user (check its owner and mode), or run ftops elsewhere"),
    errno.EPERM: ("operation not permitted", "make the directory writable for this user, or run ftops elsewhere"),
    errno.ENOSPC: ("no space left on the device",
                   "free some space and run the command again (the lock file is only ever replaced whole)"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space and run the command again"),
}


def environment_error(exc: OSError) -> FtopsError | None:
    """The user-facing error for ``exc`` when the environment caused it, else None."""
    known = _FIXES.get(exc.errno or 0)
    if known is None:
        return None
    cause, fix = known
    where = exc.filename if isinstance(exc.filename, str) else None
    return FtopsError(f"cannot write there: {cause}", where=where, hint=fix)
