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

from ftops.plan.model import Action, Change, Plan

_SHOWN = 5  # desired-value differences listed per change
_DERIVED = ("fingerprint",)  # `after` keys computed from the others (the job spec's fingerprint and its input)


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
    """``start ($4.00)``: the cost is shown where it is spent (creates park at no training cost)."""
    spend = change.cost.cost if change.action is Action.START and change.cost else None
    return f"{change.action.value} ({_money(spend)})" if spend else change.action.value


def _flatten(value: object, prefix: str = "") -> dict[str, str]:
    """``{"hyperparameters": {"training_steps": 2}}`` → ``{"hyperparameters.training_steps": "2"}``."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: _canonical(value)}


def _value_differences(reviewed: object, fresh: object) -> list[str]:
    then, now = _flatten(reviewed), _flatten(fresh)
    paths = sorted(p for p in then.keys() | now.keys() if then.get(p) != now.get(p))
    # The fingerprint is derived from the spec: name the spec fields, not the hashes, when both differ.
    readable = [p for p in paths if not p.startswith(_DERIVED)]
    paths = readable or paths
    shown = [f"{p or 'value'} is {now.get(p, '(none)')}, reviewed {then.get(p, '(none)')}" for p in paths[:_SHOWN]]
    if len(paths) > _SHOWN:
        shown.append(f"and {len(paths) - _SHOWN} more desired values differ")
    return shown


def _change_differences(reviewed: Change, fresh: Change) -> list[str]:
    found: list[str] = []
    if (reviewed.remote_id, reviewed.replaced_remote_id) != (fresh.remote_id, fresh.replaced_remote_id):
        now, then = fresh.remote_id or "a new object", reviewed.remote_id or "a new object"
        found.append(f"now targets {now}, reviewed {then}")
    if reviewed.old_job_disposition != fresh.old_job_disposition:
        found.append(f"the old job is now to {fresh.old_job_disposition}, reviewed {reviewed.old_job_disposition}")
    # `after` is what apply will make; field changes say what it changes from (for updates of live objects).
    found.extend(_value_differences(reviewed.after, fresh.after))
    fields_then = {f.path: (f.before, f.after) for f in reviewed.field_changes}
    fields_now = {f.path: (f.before, f.after) for f in fresh.field_changes}
    if fields_then != fields_now and not found:
        found.extend(f"changes {path} now, reviewed {'not' if path not in fields_then else 'differently'}"
                     for path in sorted(fields_now.keys() | fields_then.keys())
                     if fields_now.get(path) != fields_then.get(path))
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
    # One address can carry two changes (a job's create and its start): a change is its address and action.
    then = {(c.address, c.action): c for c in reviewed.changes}
    now = {(c.address, c.action): c for c in fresh.changes}
    for key, change in now.items():
        if key not in then:
            out.append(PlanDifference(change.address, f"{_describe(change)}: not in the reviewed plan"))
        else:
            found = _change_differences(then[key], change)
            out.extend(PlanDifference(change.address, f"{change.action.value}: {text}") for text in found)
    for key, change in then.items():
        if key not in now:
            out.append(PlanDifference(change.address, f"the reviewed {_describe(change)} is no longer planned"))
    if _cents(reviewed.total_cost()) != _cents(fresh.total_cost()):
        out.append(PlanDifference(
            "", f"total training cost {_money(fresh.total_cost())}, reviewed {_money(reviewed.total_cost())}"))
    return out
