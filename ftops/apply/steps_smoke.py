"""The SMOKE step: a new fine-tuned model must answer a short call before anything names or promotes it.

It waits (``Deferred``) until the job has produced its model, asks it the plan's prompt once (a chat, or a
classification for a classifier) and records the outcome on the job's lock entry — ``smoke: {model, digest,
passed, answer, reason, at}``, copied onto the model's entry when the model is recorded. The call changes
nothing on the API, so there is no intent: a crash before the record only means it is asked again, and a pass
already recorded for this model and this test is not asked again. A failure raises, so the changes after it
for the same address (gate, name, archive of the previous model) are skipped and apply exits 1.
"""

from __future__ import annotations

import time

from ftops.apply.steps_base import StepContext
from ftops.apply.steps_models import resolve_model_id
from ftops.errors import ApplyError
from ftops.evals.smoke import SmokeResult, run_smoke
from ftops.plan.model import Change

SHOWN = 60  # of the answer, in apply's output (the lock keeps a little more)


def _job_address(change: Change) -> str:
    return str((change.after or {}).get("job") or "")


def _recorded_pass(ctx: StepContext, job_address: str, model: str, digest: str) -> bool:
    locked = ctx.store.lock.resources.get(job_address)
    record = locked.attributes.get("smoke") if locked is not None else None
    return isinstance(record, dict) and record.get("model") == model and record.get("digest") == digest \
        and record.get("passed") is True


def _record(ctx: StepContext, job_address: str, digest: str, result: SmokeResult) -> None:
    ctx.store.set_attribute(job_address, "smoke", result.record(digest, int(time.time())))


def smoke(ctx: StepContext, change: Change) -> str:
    config = change.smoke
    if config is None:
        raise ApplyError("a smoke-test change without its prompt", where=change.address, hint="run ftops plan again")
    model = resolve_model_id(ctx, change)  # Deferred until the job has produced its model
    job_address = _job_address(change)
    if _recorded_pass(ctx, job_address, model, config.digest):
        return f"{change.address}: smoke test of {model} already passed (recorded in the lock)"
    result = run_smoke(ctx.client, model, config)
    _record(ctx, job_address, config.digest, result)
    if not result.passed:
        raise ApplyError(f"smoke test FAILED for {model}: {result.reason}", where=change.address,
                         hint="the model is not named or promoted and nothing is archived; the next apply runs the "
                         "smoke test again (fix the Model's smoke: prompt/expect, or retrain with --replace "
                         f"{job_address})")
    answer = result.answer if len(result.answer) <= SHOWN else result.answer[:SHOWN - 1] + "…"
    return f"{change.address}: smoke test passed for {model}: {answer!r}"
