"""``ftops data split``: a deterministic train/eval split that respects the 1 MB validation-file limit.

Each line goes to eval when ``sha256(seed, line bytes)`` falls under the eval fraction, so the split depends
only on the seed and the content (not on the machine, Python's hash seed or the line order), and duplicate
rows always land on the same side. Eval stops growing at 1 MB (the API's validation limit); the lines it
would have taken go to train and the result says how many. Blank lines (and lines over 64 MiB) are skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ftops.datasets.fix import AtomicWriter
from ftops.datasets.reader import iter_raw_lines
from ftops.datasets.stats import VALIDATION_FILE_LIMIT
from ftops.datasets.validate import open_dataset
from ftops.errors import DatasetError


@dataclass
class SplitResult:
    train_path: str
    eval_path: str
    train_lines: int = 0
    eval_lines: int = 0
    eval_bytes: int = 0
    capped_lines: int = 0  # lines chosen for eval but moved to train by the 1 MB cap
    skipped: int = 0


def _draw(seed: int, line: bytes) -> float:
    digest = hashlib.sha256(seed.to_bytes(8, "big", signed=True) + line).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_file(src: str | Path, *, eval_fraction: float, seed: int, train: str | Path | None = None,
               eval_out: str | Path | None = None, eval_limit: int = VALIDATION_FILE_LIMIT) -> SplitResult:
    if not 0.0 < eval_fraction < 1.0:
        raise DatasetError(f"--eval-fraction must be between 0 and 1 (exclusive), got {eval_fraction}",
                           hint="for example --eval-fraction 0.05")
    src_p = Path(src)
    stem = src_p.name.removesuffix(".jsonl")
    train_p = Path(train) if train else src_p.with_name(f"{stem}.train.jsonl")
    eval_p = Path(eval_out) if eval_out else src_p.with_name(f"{stem}.eval.jsonl")
    for out in (train_p, eval_p):
        if out.exists() and src_p.exists() and out.resolve() == src_p.resolve():
            raise DatasetError("refusing to overwrite the input file", where=str(out),
                               hint="choose other --train/--eval paths")
    if train_p.resolve() == eval_p.resolve():
        raise DatasetError("--train and --eval name the same file", where=str(train_p))
    res = SplitResult(str(train_p), str(eval_p))
    with open_dataset(src_p) as stream, AtomicWriter(train_p) as tr, AtomicWriter(eval_p) as ev:
        for _, raw, _size in iter_raw_lines(stream):
            if raw is None or not raw.strip():
                res.skipped += 1
                continue
            line = raw.rstrip(b"\r\n") + b"\n"
            if _draw(seed, line.rstrip(b"\n")) < eval_fraction:
                if res.eval_bytes + len(line) <= eval_limit:
                    ev.write(line)
                    res.eval_lines += 1
                    res.eval_bytes += len(line)
                    continue
                res.capped_lines += 1
            tr.write(line)
            res.train_lines += 1
    return res
