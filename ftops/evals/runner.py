"""Running an evaluation: every case sent to one model (in parallel), each answer scored.

A failed call is a failed case (score 0, its error kept), never a crash of the whole run, except an
authentication or unknown-model error, which would fail every case the same way and stops the run at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ftops.errors import ApiError, AuthenticationError, FtopsError, NotFoundError
from ftops.evals.cases import EvalCase
from ftops.evals.scorers import Scorer

if TYPE_CHECKING:  # annotations only: a plan that loads an evaluation set never calls a model
    from ftops.client.inference_models import ChatCompletion, Classification


class ModelCaller(Protocol):
    def chat(self, model: str, messages: list[dict[str, Any]], *, max_tokens: int | None = None,
             temperature: float | None = None) -> ChatCompletion: ...
    def classify(self, model: str, texts: list[str]) -> Classification: ...
    def classify_chat(self, model: str, conversations: list[list[dict[str, Any]]]) -> Classification: ...


@dataclass(frozen=True)
class CaseResult:
    case: EvalCase
    answer: str
    score: float
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class EvalRun:
    model: str
    scorer: str
    results: tuple[CaseResult, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.error)


def _ask(caller: ModelCaller, model: str, case: EvalCase, scorer: Scorer, max_tokens: int | None) -> CaseResult:
    started = time.perf_counter()
    try:
        if case.labels:
            answer = (caller.classify(model, [case.text]) if case.text is not None
                      else caller.classify_chat(model, [list(case.messages)]))
            scores = {t: dict(s.scores) for t, s in (answer.results[0] if answer.results else {}).items()}
            text = ", ".join(f"{t}={s.top()}" for t, s in sorted((answer.results or [{}])[0].items()))
            return CaseResult(case, text, scorer(case, text, scores), seconds=time.perf_counter() - started)
        reply = caller.chat(model, list(case.messages), max_tokens=max_tokens, temperature=0.0)
        return CaseResult(case, reply.text, scorer(case, reply.text, None), seconds=time.perf_counter() - started)
    except (AuthenticationError, NotFoundError):
        raise
    except ApiError as exc:
        return CaseResult(case, "", 0.0, error=exc.message, seconds=time.perf_counter() - started)


def run_eval(caller: ModelCaller, model: str, cases: Sequence[EvalCase], scorer: Scorer, *, scorer_name: str,
             parallelism: int = 8, max_tokens: int | None = 512,
             progress: Callable[[int, int], None] | None = None) -> EvalRun:
    """Ask ``model`` every case, ``parallelism`` calls at a time; results in case order."""
    if parallelism < 1:
        raise FtopsError("--parallelism must be at least 1", hint="use e.g. --parallelism 8")
    started = time.perf_counter()
    results: list[CaseResult] = []
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="ftops-eval") as pool:
        for done, result in enumerate(pool.map(lambda c: _ask(caller, model, c, scorer, max_tokens), cases), 1):
            results.append(result)
            if progress is not None:
                progress(done, len(cases))
    return EvalRun(model=model, scorer=scorer_name, results=tuple(results), seconds=time.perf_counter() - started)


def scores_by_line(run: EvalRun) -> Mapping[int, float]:
    return {r.case.line: r.score for r in run.results}
