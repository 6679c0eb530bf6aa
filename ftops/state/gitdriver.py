"""Registering the lock merge driver with git: a ``.gitattributes`` line plus ``git config merge.ftops-lock.*``.

``.gitattributes`` is committed, so every clone knows that ``ftops.lock`` merges with the ``ftops-lock``
driver; the driver's command lives in ``.git/config``, which git never shares, so each clone registers it
once (``ftops init`` does it for a new project, ``ftops state install-merge-driver`` in an existing clone).
Without the config git falls back to its line merge, which conflicts: nothing breaks silently.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ftops.errors import FtopsError

DRIVER = "ftops-lock"


def attributes_line(lock_name: str = "ftops.lock") -> str:
    return f"{lock_name} merge={DRIVER}"


def driver_command() -> str:
    """The command git runs: this very ftops (the interpreter it runs on), so a venv install works too.

    The driver module, not the ``ftops`` CLI: it loads only the state layer (``ftops state merge-driver`` is
    the same merge for people).
    """
    return f"{shlex.quote(sys.executable)} -m ftops.state.mergedriver %O %A %B %P"


@dataclass(frozen=True)
class DriverInstall:
    attributes_added: bool  # False: .gitattributes already had the line
    git_configured: bool  # False: not inside a git work tree (only .gitattributes was written)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return subprocess.CompletedProcess(["git"], 127, "", "git is not installed")


def in_git_work_tree(root: Path) -> bool:
    result = _git(root, "rev-parse", "--is-inside-work-tree")
    return result.returncode == 0 and result.stdout.strip() == "true"


def add_attributes(root: Path, lock_name: str = "ftops.lock") -> bool:
    """Append the driver line to ``root/.gitattributes`` unless it is there; True when it was added."""
    path = root / ".gitattributes"
    line = attributes_line(lock_name)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if line in (raw.strip() for raw in existing.splitlines()):
        return False
    head = existing if not existing or existing.endswith("\n") else existing + "\n"
    path.write_text(head + line + "\n", encoding="utf-8")
    return True


def configure_git(root: Path) -> bool:
    """Set ``merge.ftops-lock.{name,driver}`` in the clone's own config; False when not a git work tree."""
    if not in_git_work_tree(root):
        return False
    for key, value in (("name", "ftops lock file merge (same lineage: union, serial max+1)"),
                       ("driver", driver_command())):
        result = _git(root, "config", "--local", f"merge.{DRIVER}.{key}", value)
        if result.returncode != 0:
            raise FtopsError(f"git config merge.{DRIVER}.{key} failed: {result.stderr.strip()}", where=str(root),
                             hint="check that the repository's .git/config is writable")
    return True


def install_merge_driver(root: Path, lock_name: str = "ftops.lock") -> DriverInstall:
    return DriverInstall(attributes_added=add_attributes(root, lock_name), git_configured=configure_git(root))
