"""Does a fresh plan do exactly what a reviewed one did? The check behind "apply what was reviewed, or refuse".

CI saves the plan a pull request's reviewers saw; on merge it plans again and applies only when the two are
the same *changes* at the same *cost*. Same change: the same address, action and target object (``remote_id``,
and for a replace the job it replaces), the same desired values (``after``) and field changes, and the same
cost to the cent. Deliberately NOT compared: plan ids and timestamps, the lock serial (an unrelated apply may
have moved it), the ``before`` values and reason sentences (an observed status that moved on by itself is
progress, not a different change) and the order of independent changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ftops.plan.model import Change, Plan


@dataclass(frozen=True)
class PlanDifference:
    address: str  # "" for the plan as a whole (endpoint, total cost)
    message: str

    def __str__(self) -> str:
        return f"{self.address}: {self.message}" if self.address else self.message


def _cents(value: float | None) -> int | None:
    return None if value is None else round(value * 100)


def _money(value: float | None) -> str:
    return "no cost" if value is None else f"${value:,.2f}"


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _describe(change: Change) -> str:
    cost = f", {_money(change.cost.cost)}" if change.cost and change.cost.cost else ""
    return f"{change.action.value}{cost}"


def _change_differences(reviewed: Change, fresh: Change) -> list[str]:
    found: list[str] = []
    if reviewed.action is not fresh.action:
        found.append(f"now {fresh.action.value}, reviewed {reviewed.action.value}")
        return found
    if (reviewed.remote_id, reviewed.replaced_remote_id) != (fresh.remote_id, fresh.replaced_remote_id):
        now, then = fresh.remote_id or "a new object", reviewed.remote_id or "a new object"
        found.append(f"now targets {now}, reviewed {then}")
    if reviewed.old_job_disposition != fresh.old_job_disposition:
        found.append(f"the old job is now to {fresh.old_job_disposition}, reviewed {reviewed.old_job_disposition}")
    fields_now = {(f.path, _canonical(f.before), _canonical(f.after)) for f in fresh.field_changes}
    fields_then = {(f.path, _canonical(f.before), _canonical(f.after)) for f in reviewed.field_changes}
    for path in sorted({p for p, _, _ in fields_now ^ fields_then}):
        now = next((a for p, _, a in fields_now if p == path), "(unchanged)")
        then = next((a for p, _, a in fields_then if p == path), "(unchanged)")
        found.append(f"{path} now → {now}, reviewed → {then}")
    if not found and _canonical(reviewed.after) != _canonical(fresh.after):
        found.append("the desired values differ from the reviewed ones")
    cost_now = fresh.cost.cost if fresh.cost else None
    cost_then = reviewed.cost.cost if reviewed.cost else None
    if _cents(cost_now) != _cents(cost_then):
        found.append(f"costs {_money(cost_now)}, reviewed {_money(cost_then)}")
    return found


def compare_plans(reviewed: Plan, fresh: Plan) -> list[PlanDifference]:
    """Every way ``fresh`` differs from ``reviewed`` (empty: it does exactly what was reviewed)."""
    out: list[PlanDifference] = []
    if reviewed.endpoint != fresh.endpoint:
        out.append(PlanDifference("", f"planned against {fresh.endpoint}, reviewed against {reviewed.endpoint}"))
    then = {c.address: c for c in reviewed.changes}
    now = {c.address: c for c in fresh.changes}
    for address, change in now.items():
        if address not in then:
            out.append(PlanDifference(address, f"{_describe(change)} was not in the reviewed plan"))
        else:
            out.extend(PlanDifference(address, text) for text in _change_differences(then[address], change))
    for address, change in then.items():
        if address not in now:
            out.append(PlanDifference(address, f"the reviewed {_describe(change)} is no longer planned"))
    if _cents(reviewed.total_cost()) != _cents(fresh.total_cost()):
        out.append(PlanDifference(
            "", f"total training cost {_money(fresh.total_cost())}, reviewed {_money(reviewed.total_cost())}"))
    return out
