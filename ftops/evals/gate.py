"""The promotion gate: may a candidate model replace the current one?

A gate passes when the candidate answers a smoke prompt, scores at least ``min_score`` on the evaluation set,
has a final validation loss no higher than ``max_valid_loss`` (when set), and — with ``not_worse`` — scores
no lower than the current model on the same cases (A/B). Every failed condition is a reason in the result;
the caller reports them and never promotes on a failed gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ftops.evals.cases import EvalCase
from ftops.evals.runner import EvalRun, ModelCaller, run_eval
from ftops.evals.scorers import Scorer
from ftops.evals.smoke import DEFAULT_SMOKE_PROMPT, SmokeConfig, run_smoke


@dataclass(frozen=True)
class GateSpec:
    evaluation: str  # the Evaluation's name (for messages and the lock record)
    scorer: str
    min_score: float = 0.0
    max_valid_loss: float | None = None
    not_worse: bool = True  # the candidate must score ≥ the current model on the same cases
    smoke_prompt: str | None = DEFAULT_SMOKE_PROMPT
    parallelism: int = 8
    max_tokens: int = 256


@dataclass(frozen=True)
class GateResult:
    candidate: str
    current: str | None
    candidate_score: float | None
    current_score: float | None
    valid_loss: float | None
    passed: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)  # why it failed (empty when it passed)

    def summary(self) -> str:
        score = "-" if self.candidate_score is None else f"{self.candidate_score:.3f}"
        against = "" if self.current_score is None else f" vs current {self.current_score:.3f}"
        verdict = "passed" if self.passed else "FAILED: " + "; ".join(self.reasons)
        return f"gate {verdict} (score {score}{against})"


def smoke_test(caller: ModelCaller, model: str, prompt: str) -> str | None:
    """None when the model answers something; else why not (the Evaluation's own ``smoke_prompt``)."""
    return run_smoke(caller, model, SmokeConfig(prompt=prompt)).reason


def evaluate_gate(caller: ModelCaller, spec: GateSpec, cases: Sequence[EvalCase], scorer: Scorer, *,
                  candidate: str, current: str | None, valid_loss: float | None,
                  classifier: bool = False) -> GateResult:
    reasons: list[str] = []
    if spec.smoke_prompt and not classifier:
        problem = smoke_test(caller, candidate, spec.smoke_prompt)
        if problem:
            return GateResult(candidate, current, None, None, valid_loss, False, (problem,))
    run = _run(caller, candidate, cases, scorer, spec)
    base: EvalRun | None = _run(caller, current, cases, scorer, spec) if current and spec.not_worse else None
    if run.score < spec.min_score:
        reasons.append(f"score {run.score:.3f} is below min_score {spec.min_score:g} on {spec.evaluation}")
    if spec.max_valid_loss is not None:
        if valid_loss is None:
            reasons.append("max_valid_loss is set but the job reported no validation loss (add validation_files)")
        elif valid_loss > spec.max_valid_loss:
            reasons.append(f"final valid_loss {valid_loss:.4g} is above max_valid_loss {spec.max_valid_loss:g}")
    if base is not None and run.score < base.score:
        reasons.append(f"score {run.score:.3f} is worse than the current model's {base.score:.3f} ({current})")
    return GateResult(candidate, current, run.score, base.score if base else None, valid_loss, not reasons,
                      tuple(reasons))


def _run(caller: ModelCaller, model: str, cases: Sequence[EvalCase], scorer: Scorer, spec: GateSpec) -> EvalRun:
    return run_eval(caller, model, cases, scorer, scorer_name=spec.scorer, parallelism=spec.parallelism,
                    max_tokens=spec.max_tokens)
