"""Content hashes of dataset files at disk speed, and a cache so an unchanged file is never re-hashed.

``sha256_file`` streams with 1 MiB reads (``hashlib.file_digest`` when available, which releases the GIL
and reuses one buffer). ``HashCache`` remembers each file's digest keyed by (absolute path, size,
mtime_ns, inode) in ``.ftops/hashes.json``, plus token counts per (sha256, model) for the plan's cost
estimate. Planning code only reads and fills it in memory; the CLI calls ``save()`` (an atomic write).
A file modified within the filesystem's timestamp granularity of being hashed is not cached ("racy" entry,
as git does), since a same-size rewrite in that window would keep the same key.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ftops.state.atomic import atomic_write_text

CHUNK = 1024 * 1024
CACHE_VERSION = 1
_RACY_NS = 2_000_000_000  # coarse filesystems (FAT, some network mounts) have 2 s mtime resolution


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's content, streamed."""
    with open(path, "rb") as fh:
        if hasattr(hashlib, "file_digest"):
            return str(hashlib.file_digest(fh, "sha256").hexdigest())
        digest = hashlib.sha256()  # pragma: no cover - Python 3.10
        buf = bytearray(CHUNK)  # pragma: no cover
        view = memoryview(buf)  # pragma: no cover
        while n := fh.readinto(buf):  # pragma: no cover
            digest.update(view[:n])  # pragma: no cover
        return digest.hexdigest()  # pragma: no cover


class HashCache:
    """Digests by file identity and token counts by (sha256, model), persisted as JSON."""

    def __init__(self, path: Path | None, files: dict[str, Any] | None = None,
                 tokens: dict[str, int] | None = None) -> None:
        self.path = path
        self._files: dict[str, Any] = files or {}
        self._tokens: dict[str, int] = tokens or {}
        self._dirty = False
        self.hash_calls = 0  # files actually read (the benchmark and tests count re-hashes)

    @classmethod
    def load(cls, path: Path | str) -> HashCache:
        """The cache at ``path``; empty when missing, unreadable or of another version (it is only a cache)."""
        target = Path(path)
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(target)
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return cls(target)
        files = data.get("files") if isinstance(data.get("files"), dict) else {}
        tokens = data.get("tokens") if isinstance(data.get("tokens"), dict) else {}
        return cls(target, files, {k: v for k, v in (tokens or {}).items() if isinstance(v, int)})

    @staticmethod
    def _key(st: os.stat_result) -> list[int]:
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def sha256(self, path: Path | str) -> str:
        """The file's sha256, from the cache when its size, mtime and inode are unchanged."""
        # abspath, not resolve(): no syscall per path component (a symlinked path is merely another key).
        absolute = os.path.abspath(path)
        st = os.stat(absolute)
        entry = self._files.get(absolute)
        if isinstance(entry, dict) and entry.get("key") == self._key(st) and isinstance(entry.get("sha256"), str):
            return str(entry["sha256"])
        hashed_at = time.time_ns()
        digest = sha256_file(absolute)
        self.hash_calls += 1
        after = os.stat(absolute)
        if self._key(after) == self._key(st) and hashed_at - st.st_mtime_ns > _RACY_NS:
            self._files[absolute] = {"key": self._key(st), "sha256": digest}
            self._dirty = True
        return digest

    def tokens(self, sha256: str, model: str) -> int | None:
        return self._tokens.get(f"{sha256}:{model}")

    def set_tokens(self, sha256: str, model: str, count: int) -> None:
        key = f"{sha256}:{model}"
        if self._tokens.get(key) != count:
            self._tokens[key] = count
            self._dirty = True

    def save(self) -> None:
        """Write atomically (temp file, fsync, rename) if anything changed; never fails the command."""
        if not self._dirty or self.path is None:
            return
        # Forget files that no longer exist so the cache doesn't grow forever.
        files = {p: e for p, e in self._files.items() if os.path.exists(p)}
        payload = json.dumps({"version": CACHE_VERSION, "files": files, "tokens": self._tokens},
                             sort_keys=True, separators=(",", ":"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, payload)
        except OSError:
            return  # a read-only checkout still plans; it just hashes again next time
        self._dirty = False
