"""The git merge driver process: ``python -m ftops.state.mergedriver %O %A %B %P``.

Git runs it for every merge that touches ``ftops.lock`` (see :mod:`ftops.state.gitdriver`), so it imports
only the state layer, not the whole command line: a merge should not pay for loading the reconciler.
``ftops state merge-driver`` runs the same :func:`run`. The result is written over OURS (``%A``) atomically;
exit 0 when merged, 1 (git keeps the conflict, OURS untouched) when the locks cannot be merged by rule.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ftops.errors import FtopsError, StateError
from ftops.state.lockfile import LOCK_FILE_NAME, parse_lock, write_lock
from ftops.state.merge import LockMerge, merge_locks
from ftops.state.model import LockFile

USAGE = "usage: python -m ftops.state.mergedriver BASE OURS THEIRS [PATH]"


def _read_side(path: Path, label: str, *, optional: bool = False) -> LockFile | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read the {label}: {exc}", where=str(path)) from None
    if optional and not text.strip():  # no common ancestor: git passes an empty file
        return None
    return parse_lock(text, where=label)


def run(base: Path, ours: Path, theirs: Path, shown: str = LOCK_FILE_NAME) -> LockMerge:
    """Merge THEIRS into OURS (written in place) against BASE; raises StateError when it cannot."""
    base_lock = _read_side(base, f"{shown} (common ancestor)", optional=True)
    ours_lock = _read_side(ours, f"{shown} (ours)")
    theirs_lock = _read_side(theirs, f"{shown} (theirs)")
    assert ours_lock is not None and theirs_lock is not None
    result = merge_locks(base_lock, ours_lock, theirs_lock, where=shown)
    write_lock(ours, result.lock)
    return result


def report(result: LockMerge, shown: str, say: Callable[[str], None]) -> None:
    say(f"ftops: merged {shown}: {len(result.lock.resources)} resources, serial {result.lock.serial}.")
    for note in result.notes:
        say(f"ftops: {note}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (3, 4):
        print(USAGE, file=sys.stderr)
        return 2
    shown = args[3] if len(args) == 4 else LOCK_FILE_NAME
    try:
        result = run(Path(args[0]), Path(args[1]), Path(args[2]), shown)
    except FtopsError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    report(result, shown, lambda line: print(line, file=sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
