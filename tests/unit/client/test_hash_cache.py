"""Content hashing and the hash cache: correct digests, no re-hash of unchanged files, atomic persistence."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ftops.hashing import HashCache, sha256_file

OLD = 1_600_000_000  # an mtime well in the past, so entries are not "racy"


def dataset(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    os.utime(path, (OLD, OLD))
    return path


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    path = dataset(tmp_path, "a.jsonl", content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()


def test_unchanged_file_is_not_rehashed_across_runs(tmp_path: Path) -> None:
    path = dataset(tmp_path, "a.jsonl", b"one\n")
    cache_file = tmp_path / ".ftops" / "hashes.json"
    first = HashCache.load(cache_file)
    digest = first.sha256(path)
    first.save()
    second = HashCache.load(cache_file)
    assert second.sha256(path) == digest and second.sha256(tmp_path / "a.jsonl") == digest
    assert second.hash_calls == 0


def test_changed_content_is_rehashed(tmp_path: Path) -> None:
    path = dataset(tmp_path, "a.jsonl", b"one\n")
    cache = HashCache.load(tmp_path / "h.json")
    before = cache.sha256(path)
    dataset(tmp_path, "a.jsonl", b"two\n")  # same size, but mtime_ns differs
    os.utime(path, (OLD + 5, OLD + 5))
    assert cache.sha256(path) != before and cache.hash_calls == 2


def test_freshly_written_file_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    path.write_bytes(b"x\n")
    cache = HashCache.load(tmp_path / "h.json")
    cache.sha256(path)
    cache.sha256(path)
    assert cache.hash_calls == 2  # a same-size rewrite within the mtime granularity could go unnoticed


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    cache_file = tmp_path / "h.json"
    cache_file.write_text("{not json")
    cache = HashCache.load(cache_file)
    cache.sha256(dataset(tmp_path, "a.jsonl", b"a\n"))
    cache.save()
    assert HashCache.load(cache_file).sha256(tmp_path / "a.jsonl")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".hashes.")] == []


def test_token_counts_per_hash_and_model(tmp_path: Path) -> None:
    cache_file = tmp_path / "h.json"
    cache = HashCache.load(cache_file)
    assert cache.tokens("abc", "open-mistral-7b") is None
    cache.set_tokens("abc", "open-mistral-7b", 1234)
    cache.save()
    loaded = HashCache.load(cache_file)
    assert loaded.tokens("abc", "open-mistral-7b") == 1234
    assert loaded.tokens("abc", "ministral-3b-latest") is None


def test_save_without_changes_writes_nothing(tmp_path: Path) -> None:
    cache_file = tmp_path / "h.json"
    HashCache.load(cache_file).save()
    assert not cache_file.exists()
