"""Planning what decides a Model's next fine-tuned model: its ``gate`` and its ``best_of`` sweep.

A gate is a GATE change before the promotion changes of the same address: apply evaluates the candidate, and
the changes after it (name, archive of the previous model) only run when it passed (the executor skips the
changes of an address after a failed one). Apply records each verdict on the job's lock entry; a failed
verdict for *this* candidate and *this* evaluation (same digest) blocks the promotion in every later plan —
reported as a problem, never retried on its own — until the job's spec or the evaluation changes, or
``--replace`` trains a new candidate.

``best_of`` picks, once every job of the sweep has finished, the job with the best final value of one
checkpoint metric (lowest loss, highest accuracy); the chosen job is then planned like a ``job:`` Model, and
its changes carry the ranking that chose it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from ftops.desired import DesiredModel
from ftops.metrics import MAX_POINTS, job_metrics, rank, thin
from ftops.plan._context import PlanContext
from ftops.plan.model import Action, Reason
from ftops.state.model import LockedResource

Verdict = Literal["run", "passed", "blocked"]
# The sweep's curves a plan carries for its chart: the best few jobs, a few points each.
MAX_CURVES = 6
Choice = tuple[DesiredModel, list[list[Any]], dict[str, list[list[float]]]]


def gate_record(entry: LockedResource | None) -> dict[str, Any] | None:
    record = entry.attributes.get("gate") if entry is not None else None
    return record if isinstance(record, dict) else None


def last_result(record: dict[str, Any] | None) -> str:
    """``passed 0.875 vs current 0.500 (ft:…)``: one line about a recorded verdict."""
    if record is None:
        return "no result yet"
    score = record.get("score")
    against = record.get("current_score")
    shown = "-" if score is None else f"{score:.3f}"
    shown += "" if against is None else f" vs current {against:.3f}"
    verdict = "passed" if record.get("passed") else "FAILED"
    return f"{verdict} {shown} ({record.get('candidate')})"


def gate_verdict(ctx: PlanContext, m: DesiredModel, target: str | None) -> Verdict:
    """Whether the gate must run for ``target``, already passed, or failed (and blocks the promotion)."""
    assert m.gate is not None
    record = gate_record(ctx.lock(m.job))
    if target is None or record is None or record.get("candidate") != target \
            or record.get("digest") != m.gate.digest:
        return "run"
    if record.get("passed"):
        return "passed"
    entry = ctx.lock(m.address)
    stays = f"{entry.remote_id} stays named" if entry is not None else "no model is named"
    reasons = "; ".join(str(r) for r in record.get("reasons") or []) or "see the lock's gate record"
    ctx.problem(m.address, target,
                f"promotion blocked by gate {m.gate.evaluation}: {target} failed ({reasons}); {stays}. Change the "
                f"job's spec or the evaluation, or train again with --replace {m.job}")
    return "blocked"


def plan_gate(ctx: PlanContext, m: DesiredModel, target: str | None, current: str | None) -> None:
    gate = m.gate
    assert gate is not None
    record = gate_record(ctx.lock(m.address))
    when = f"once {m.job} has produced its fine-tuned model" if target is None else f"on {target}"
    against = f" against the current model {current}" if current and gate.not_worse else ""
    ctx.add(m.address, Action.GATE, remote_id=target, before={"current": current},
            after={"job": m.job, "evaluation": gate.evaluation, "digest": gate.digest, "current": current},
            depends_on=[m.job] if target is None else [], gate=gate, reason=Reason.GATE,
            reasons=[f"gate {gate.evaluation}: runs before promotion, {when}{against}; last result: "
                     f"{last_result(record)}",
                     "a failed gate promotes nothing: the current model stays named and apply exits 1"])


def choose_best(ctx: PlanContext, m: DesiredModel) -> Choice | None:
    """The Model pointed at its sweep's best job with the ranking, or None while the sweep is not finished."""
    best_of = m.best_of
    assert best_of is not None
    finished, waiting = [], []
    for address in best_of.candidates:
        entry = ctx.lock(address)
        remote = ctx.adopted_jobs.get(address) or (ctx.live.jobs.get(entry.remote_id) if entry else None)
        planned = ctx.actions(address) & {Action.CREATE, Action.REPLACE, Action.START}
        if planned or remote is None or not remote.terminal:
            waiting.append(address)
        elif remote.fine_tuned_model:
            finished.append(job_metrics(remote, label=address))
    total = len(best_of.candidates)
    if waiting:
        ctx.observe_progress(m.address, None, f"best_of {best_of.sweep}: {total - len(waiting)} of {total} job(s) "
                             f"finished; the best by {best_of.by} is chosen once all have finished")
        return None
    ranked = rank(finished, best_of.by)
    ranking = [[j.label, value] for j, value in ranked]
    if not ranking or ranking[0][1] is None:
        ctx.problem(m.address, None, f"best_of {best_of.sweep}: no successful job of the sweep reported "
                    f"{best_of.by}" + (" (valid_* metrics need validation_files)" if "valid" in best_of.by else ""))
        return None
    curves = {j.label: _thin(j.series(best_of.by)) for j, _ in ranked[:MAX_CURVES]}
    return dataclasses.replace(m, job=str(ranking[0][0])), ranking, curves


def _thin(points: list[tuple[int, float]]) -> list[list[float]]:
    """At most MAX_POINTS points of a curve (evenly spaced, the first and last kept): a PR comment stays short."""
    return [[step, round(value, 5)] for step, value in thin(points, MAX_POINTS)]


def annotate_ranking(ctx: PlanContext, start: int, m: DesiredModel, ranking: list[list[Any]],
                     curves: dict[str, list[list[float]]]) -> None:
    """Every change planned for ``m`` since ``start`` says which sweep job won, and carries the ranking."""
    assert m.best_of is not None
    best = ranking[0]
    line = (f"best_of {m.best_of.sweep} by {m.best_of.by}: {best[0]} is the best of {len(ranking)} "
            f"({best[1]:.4f})")
    for i in range(start, len(ctx.changes)):
        change = ctx.changes[i]
        if change.address != m.address:
            continue
        after = {**(change.after or {}), "sweep": m.best_of.sweep, "by": m.best_of.by, "ranking": ranking,
                 "curves": curves}
        ctx.changes[i] = change.model_copy(update={"after": after, "reasons": [line, *change.reasons]})
