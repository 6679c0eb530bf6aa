"""Content hashing throughput (ftops.hashing versus ``sha256sum``) and the hash cache's second pass.

Builds a ``--size-mb`` file (default 600 MB) under bench/.out/, warms the page cache, then times
``sha256_file`` and ``sha256sum`` on it (median of ``--repeat``; both read the same cached pages, so this
compares hashing loops, not disks). Then a plan-style pass over ``--files`` dataset files with a fresh
``HashCache`` (hashes everything), ``save()``, and a second pass with the reloaded cache, counting the files
actually read. Run: ``.venv/bin/python bench/bench_hash.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ftops.hashing import HashCache, sha256_file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / ".out"
BLOCK = 16 * 1024 * 1024


def build(size_mb: int) -> Path:
    target = OUT / f"hash_{size_mb}mb.bin"
    want = size_mb * 1024 * 1024
    if target.exists() and target.stat().st_size >= want:
        return target
    OUT.mkdir(parents=True, exist_ok=True)
    block = os.urandom(BLOCK)
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        for _ in range(0, want, BLOCK):
            fh.write(block)
    tmp.replace(target)
    return target


def timed(run: Callable[[], str], repeat: int) -> tuple[float, str]:
    digest, times = "", []
    for _ in range(repeat):
        start = time.perf_counter()
        digest = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), digest


def sha256sum(path: Path) -> str:
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def openssl(path: Path) -> str:
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def cache_passes(count: int, size_kb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(count):
            path = Path(tmp) / f"data{i}.jsonl"
            path.write_bytes(os.urandom(size_kb * 1024))
            os.utime(path, (time.time() - 60, time.time() - 60))  # written a minute ago, as datasets are
            files.append(path)
        cache_file = Path(tmp) / ".ftops" / "hashes.json"
        first = HashCache.load(cache_file)
        start = time.perf_counter()
        digests = [first.sha256(p) for p in files]
        cold = time.perf_counter() - start
        first.save()
        second = HashCache.load(cache_file)
        start = time.perf_counter()
        again = [second.sha256(p) for p in files]
        warm = time.perf_counter() - start
        assert again == digests
        print(f"plan pass 1 (empty cache): {count} files x {size_kb} KB, {first.hash_calls} hashed, {cold:.3f} s")
        print(f"plan pass 2 (saved cache): {second.hash_calls} hashed, {warm * 1000:.1f} ms "
              f"({cold / max(warm, 1e-9):.0f}x faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-kb", type=int, default=1024)
    args = parser.parse_args()
    path = build(args.size_mb)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path.name} ({size_mb:,.0f} MB)")
    sha256_file(path)  # warm the page cache for both sides
    ours_s, ours = timed(lambda: sha256_file(path), args.repeat)
    print(f"ftops sha256_file: {size_mb / ours_s:8.0f} MB/s ({ours_s:.2f} s)")
    if shutil.which("sha256sum"):
        base_s, base = timed(lambda: sha256sum(path), args.repeat)
        assert base == ours, "digests differ"
        print(f"sha256sum:         {size_mb / base_s:8.0f} MB/s ({base_s:.2f} s)")
        print(f"ratio ftops/sha256sum throughput: {base_s / ours_s:.2f}x (goal >= 0.8x)")
    if shutil.which("openssl"):  # a second, SHA-NI-accelerated reference (coreutils may not use SHA-NI)
        ossl_s, ossl = timed(lambda: openssl(path), args.repeat)
        assert ossl == ours, "digests differ"
        print(f"openssl dgst:      {size_mb / ossl_s:8.0f} MB/s ({ossl_s:.2f} s)")
        print(f"ratio ftops/openssl throughput:   {ossl_s / ours_s:.2f}x")
    cache_passes(args.files, args.file_kb)


if __name__ == "__main__":
    main()
