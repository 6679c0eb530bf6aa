"""One side of bench_validate.py, run in its own process so its peak RSS (ru_maxrss) is its own.

``ours FILE``: ftops' validate_path (no token counting; a large file on every core, as ``ftops data
validate`` does). ``baseline FILE``: every line parsed with
json.loads, converted with mistral-common's ``ChatCompletionRequest.from_openai`` and checked by its V3
finetuning validator. ``lean FILE``: the same without the conversion (``ChatCompletionRequest.model_validate``
on each row). Prints one JSON object
with wall seconds, CPU seconds (user + sys, less sensitive to other jobs on a shared machine) and peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any


def ours(path: str) -> tuple[int, int]:
    from ftops.datasets import validate_path

    report = validate_path(path, count_tokens=False, workers=os.cpu_count() or 1)  # as `ftops data validate`
    return report.total_lines, report.valid_lines


def _mistral_common(path: str, *, convert: bool) -> tuple[int, int]:
    """Both baselines: each row through mistral-common's request model (converted from the OpenAI shape
    with ``from_openai`` when ``convert``, else ``model_validate`` on it as it is) and its V3 validator."""
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import MistralRequestValidatorV3, ValidationMode

    validator = MistralRequestValidatorV3(ValidationMode("finetuning"))
    total = valid = 0
    with open(path, "rb") as fh:
        for raw in fh:
            total += 1
            try:
                row = json.loads(raw)
                request: ChatCompletionRequest[Any] = (
                    ChatCompletionRequest.from_openai(row["messages"], tools=row.get("tools")) if convert
                    else ChatCompletionRequest.model_validate({"messages": row["messages"], "tools": row.get("tools")}))
                validator.validate_messages(request.messages)
                validator._validate_tools(request.tools or [])
            except Exception:  # the baseline's verdict: anything it raises rejects the line
                continue
            valid += 1
    return total, valid


def baseline(path: str) -> tuple[int, int]:
    return _mistral_common(path, convert=True)


def lean(path: str) -> tuple[int, int]:
    """The lean baseline: mistral-common's request model validates each row as it is (no OpenAI conversion)."""
    return _mistral_common(path, convert=False)


def main() -> None:
    side, path = sys.argv[1], sys.argv[2]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    total, valid = {"ours": ours, "lean": lean, "baseline": baseline}[side](path)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # ours spreads a large file over worker processes
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + workers.ru_utime + workers.ru_stime
    print(json.dumps({"side": side, "seconds": seconds, "cpu_seconds": cpu, "lines": total, "valid": valid,
                      "peak_rss_mb": max(after.ru_maxrss, workers.ru_maxrss) / 1024}))


if __name__ == "__main__":
    main()
