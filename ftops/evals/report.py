"""How evaluation runs read: a per-case table with the total, an A/B table, and their JSON forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ftops.evals.runner import EvalRun

EVAL_FORMAT_VERSION = "1.0"
_CELL = 38


def _cut(text: str, width: int = _CELL) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _mark(score: float) -> str:
    return "✓" if score >= 1.0 else ("✗" if score <= 0.0 else f"{score:.2f}")


def summary(run: EvalRun) -> str:
    passed = sum(1 for r in run.results if r.score >= 1.0)
    errors = f", {run.errors} call error(s)" if run.errors else ""
    rate = len(run.results) / run.seconds if run.seconds > 0 else 0.0
    return (f"score {run.score:.3f} ({passed}/{len(run.results)} cases passed{errors}; {run.scorer}; "
            f"{run.seconds:.1f} s, {rate:.1f} cases/s)")


def render_run(run: EvalRun, *, label: str, plain: bool = True) -> str:
    lines = [f"{label} ({run.model}): {summary(run)}", f"  {'line':>5}  {'':4}  {'prompt':<{_CELL}}  answer"]
    for r in run.results:
        answer = f"error: {r.error}" if r.error else r.answer
        lines.append(f"  {r.case.line:>5}  {_mark(r.score):4}  {_cut(r.case.prompt):<{_CELL}}  {_cut(answer)}")
    return "\n".join(lines)


def render_compare(a: EvalRun, b: EvalRun, *, labels: Sequence[str], plain: bool = True) -> str:
    """Case by case, then the totals and which side won each case."""
    la, lb = labels
    lines = [f"A = {la} ({a.model})", f"B = {lb} ({b.model})",
             f"  {'line':>5}  {'A':>4}  {'B':>4}  {'prompt':<{_CELL}}  answers (A | B)"]
    wins = {"A": 0, "B": 0, "tie": 0}
    for ra, rb in zip(a.results, b.results, strict=True):
        side = "A" if ra.score > rb.score else "B" if rb.score > ra.score else "tie"
        wins[side] += 1
        lines.append(f"  {ra.case.line:>5}  {_mark(ra.score):>4}  {_mark(rb.score):>4}  "
                     f"{_cut(ra.case.prompt):<{_CELL}}  {_cut(ra.answer, 24)} | {_cut(rb.answer, 24)}")
    lines.append(f"Total: A {a.score:.3f}, B {b.score:.3f} over {len(a.results)} case(s); "
                 f"A better on {wins['A']}, B better on {wins['B']}, equal on {wins['tie']}.")
    verdict = ("B is better" if b.score > a.score else "A is better" if a.score > b.score else "A and B are equal")
    lines.append(f"Verdict: {verdict} ({b.score - a.score:+.3f}).")
    return "\n".join(lines)


def _run_dict(run: EvalRun) -> dict[str, Any]:
    return {
        "model": run.model, "scorer": run.scorer, "score": round(run.score, 6), "cases": len(run.results),
        "passed": sum(1 for r in run.results if r.score >= 1.0), "errors": run.errors,
        "seconds": round(run.seconds, 3),
        "results": [{"line": r.case.line, "score": r.score, "answer": r.answer, "error": r.error,
                     "expected": r.case.expected if r.case.expected is not None else r.case.labels}
                    for r in run.results],
    }


def run_json(run: EvalRun, *, simulated: bool) -> str:
    return json.dumps({"format_version": EVAL_FORMAT_VERSION, "simulated": simulated, **_run_dict(run)}, indent=2)


def compare_json(a: EvalRun, b: EvalRun, *, simulated: bool) -> str:
    return json.dumps({"format_version": EVAL_FORMAT_VERSION, "simulated": simulated, "a": _run_dict(a),
                       "b": _run_dict(b), "delta": round(b.score - a.score, 6)}, indent=2)
