"""Planning the smoke test of a Model's new fine-tuned model: a SMOKE change before everything that names,
promotes or records it (and before its gate).

It is planned whenever the Model would take a fine-tuned model it does not track yet — the first one, the
model of a replaced job, the winner of a ``best_of`` sweep — unless the Model says ``smoke: false`` or its
job is not on Mistral (other providers serve a fine-tuned model only once it is deployed). Apply
records the outcome on the job's lock entry: a pass for *this* model and *this* test (same digest) is not
run again (a crash after the smoke test does not repeat it), a failure is planned again, with its reason, in
every later plan until it passes — a smoke failure may be transient (the model is not served yet), unlike a
gate's verdict on quality, so it is retried, never skipped.
"""

from __future__ import annotations

from typing import Any

from ftops.desired import DesiredModel
from ftops.evals.smoke import SmokeConfig
from ftops.plan._context import PlanContext
from ftops.plan.model import Action, Reason


def smoke_record(ctx: PlanContext, job_address: str) -> dict[str, Any] | None:
    entry = ctx.lock(job_address)
    record = entry.attributes.get("smoke") if entry is not None else None
    return record if isinstance(record, dict) else None


def smoke_config(ctx: PlanContext, m: DesiredModel) -> SmokeConfig | None:
    """The Model's smoke test, told whether its job is a classifier (which gets a classification call)."""
    if m.smoke is None:
        return None
    job = ctx.desired.jobs.get(m.job)
    if job is not None and job.job_spec.provider != "mistral":
        # Together serves a fine-tuned model only once someone deploys it (a dedicated endpoint), under
        # another name: a chat to the job's output name would fail for a model that is fine. Not planned.
        return None
    classifier = job is not None and job.job_spec.job_type == "classifier"
    return m.smoke.model_copy(update={"classifier": classifier}) if classifier else m.smoke


def plan_smoke(ctx: PlanContext, m: DesiredModel, target: str | None) -> None:
    """A SMOKE change for ``target`` (None: the job's model once it exists), unless it already passed."""
    config = smoke_config(ctx, m)
    if config is None:
        return
    record = smoke_record(ctx, m.job)
    same = record is not None and target is not None and record.get("model") == target \
        and record.get("digest") == config.digest
    if same and record is not None and record.get("passed"):
        return
    last = f"; last result: FAILED ({record.get('reason')})" if same and record is not None else ""
    when = f"once {m.job} has produced its fine-tuned model" if target is None else f"on {target}"
    ctx.add(m.address, Action.SMOKE, remote_id=target, after={"job": m.job, "digest": config.digest},
            depends_on=[m.job] if target is None else [], smoke=config, reason=Reason.SMOKE,
            reasons=[f"smoke test {when}, before it is named or promoted{last}",
                     "a model that does not answer is not named or promoted: apply reports it and exits 1"])
