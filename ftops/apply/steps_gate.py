"""The GATE step: evaluate a Model's candidate fine-tuned model before anything names or promotes it.

It waits (``Deferred``) until the job has produced its model, reads the evaluation set the plan named (and
refuses a set whose content changed since the plan), runs :func:`ftops.evals.gate.evaluate_gate` — smoke
test, thresholds, and A/B against the model the address tracks now — and records the verdict on the job's
lock entry (and the model's, when it has one). A failed gate raises, so the changes after it for the same
address (name, archive of the previous model) are skipped and apply exits 1; the next plan reads the
recorded verdict and reports the promotion as blocked.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ftops.apply.steps_base import StepContext, record_job
from ftops.apply.steps_models import resolve_model_id
from ftops.errors import ApplyError, DatasetError
from ftops.evals import load_cases, make_scorer
from ftops.evals.config import GateConfig
from ftops.evals.gate import GateResult, evaluate_gate
from ftops.metrics import job_metrics
from ftops.plan.model import Change


def _job_address(change: Change) -> str:
    return str((change.after or {}).get("job") or "")


def _load(ctx: StepContext, change: Change, config: GateConfig) -> list[Any]:
    path = ctx.root / config.path
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ApplyError(f"cannot read the evaluation set {config.path}: {exc.strerror or exc}",
                         where=change.address, hint="restore the file, or plan again") from None
    if sha != config.sha256:
        raise ApplyError(f"the evaluation set {config.path} changed since the plan", where=change.address,
                         hint="run ftops plan again: the gate runs the set the plan showed")
    try:
        return load_cases(path)
    except DatasetError as exc:
        raise ApplyError(f"evaluation set {config.path}: {exc.message}", where=exc.where or change.address,
                         hint=exc.hint) from None


def _valid_loss_and_type(ctx: StepContext, job_address: str) -> tuple[float | None, bool]:
    locked = ctx.store.lock.resources.get(job_address)
    if locked is None:
        return None, False
    job = ctx.client.get_job(locked.remote_id)  # detailed: checkpoints carry the validation loss
    record_job(ctx.store, job_address, job)
    return job_metrics(job).last("valid_loss"), job.job_type == "classifier"


def _record(ctx: StepContext, change: Change, config: GateConfig, result: GateResult) -> None:
    record = {
        "evaluation": config.evaluation, "digest": config.digest, "candidate": result.candidate,
        "current": result.current, "score": result.candidate_score, "current_score": result.current_score,
        "valid_loss": result.valid_loss, "passed": result.passed, "reasons": list(result.reasons),
        "at": int(time.time()),
    }
    for address in (_job_address(change), change.address):
        ctx.store.set_attribute(address, "gate", record)


def gate(ctx: StepContext, change: Change) -> str:
    config = change.gate
    if config is None:
        raise ApplyError("a gate change without its evaluation", where=change.address, hint="run ftops plan again")
    candidate = resolve_model_id(ctx, change)  # Deferred until the job has produced its model
    cases = _load(ctx, change, config)
    tracked = ctx.store.lock.resources.get(change.address)
    current = tracked.remote_id if tracked is not None and tracked.remote_id != candidate else None
    valid_loss, classifier = _valid_loss_and_type(ctx, _job_address(change))
    result = evaluate_gate(ctx.client, config.gate_spec(), cases, make_scorer(config.scorer_spec()),
                           candidate=candidate, current=current, valid_loss=valid_loss,
                           classifier=classifier or bool(cases and cases[0].labels))
    _record(ctx, change, config, result)
    score = "-" if result.candidate_score is None else f"{result.candidate_score:.3f}"
    if result.current_score is not None:
        score += f" vs current {result.current_score:.3f} ({current})"
    if not result.passed:
        stays = f"the current model {current} stays named" if current else "no model is named"
        raise ApplyError(f"gate {config.evaluation} FAILED for {candidate} (score {score}): "
                         f"{'; '.join(result.reasons)}",
                         where=change.address,
                         hint=f"{stays} and nothing is archived; fix the data or the spec (or the evaluation), or "
                         f"retrain with --replace {_job_address(change)}")
    return (f"{change.address}: gate {config.evaluation} passed for {candidate}: score {score} on {len(cases)} "
            "case(s)")
