"""A Plan as a versioned JSON document (``ftops plan --format json``), shaped like ``terraform show -json``.

The shape is documented field by field in ``docs/plan-json.md`` and pinned by the JSON Schema next to this
module (``plan-schema.json``). Compatibility rule: within a major ``format_version`` releases only *add*
fields; anything that removes or changes the meaning of a field bumps the major version. The document holds
no secrets: integrations carry only the name of the environment variable with the key.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ftops.plan.model import Action, Change, Observation, Plan
from ftops.render.text import SUMMARY_ORDER, summary_counts

JSON_FORMAT_VERSION = "1.1"  # 1.1 added change.reason and problems


def _change(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "name": change.address.split(".", 1)[1],
        "actions": [change.action.value],
        "remote_id": change.remote_id,
        "before": change.before,
        "after": change.after,
        "field_changes": [fc.model_dump(mode="json") for fc in change.field_changes],
        "replace_paths": [fc.path for fc in change.field_changes if fc.forces_replacement],
        "reasons": list(change.reasons),
        "depends_on": list(change.depends_on),
        "cost": change.cost.model_dump(mode="json") if change.cost else None,
        "replaced_remote_id": change.replaced_remote_id,
        "old_job_disposition": change.old_job_disposition,
        "reason": change.reason.value if change.reason is not None else None,
        "gate": change.gate.model_dump(mode="json") | {"digest": change.gate.digest} if change.gate else None,
        "smoke": change.smoke.model_dump(mode="json") | {"digest": change.smoke.digest} if change.smoke else None,
    }


def _observation(obs: Observation) -> dict[str, Any]:
    return {
        "address": obs.address,
        "remote_id": obs.remote_id,
        "message": obs.message,
        "field_changes": [fc.model_dump(mode="json") for fc in obs.field_changes],
    }


def _cost(plan: Plan) -> dict[str, Any]:
    jobs = [
        {"address": c.address, "action": c.action.value, **c.cost.model_dump(mode="json")}
        for c in plan.changes
        if c.cost is not None
    ]
    currencies = {c.cost.currency for c in plan.changes if c.cost is not None and c.action is Action.START}
    return {
        "total": round(plan.total_cost(), 4),
        "currency": currencies.pop() if len(currencies) == 1 else "USD",
        "counted": "start changes only: a created job parks in VALIDATED and costs nothing until started",
        "jobs": jobs,
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    counts = summary_counts(plan)
    return {
        "format_version": JSON_FORMAT_VERSION,
        "plan_id": plan.id,
        "created_at": plan.created_at,
        "endpoint": plan.endpoint,
        "manifest_digest": plan.manifest_digest,
        "lock": {"lineage": plan.lock_lineage, "serial": plan.lock_serial},
        "has_changes": plan.has_changes,
        "resource_changes": [_change(c) for c in plan.changes],
        "resource_drift": [_observation(o) for o in plan.drift],
        "progress": [_observation(o) for o in plan.progress],
        "summary": {**{a.value: counts.get(a, 0) for a in SUMMARY_ORDER}, "total": len(plan.changes)},
        "cost": _cost(plan),
        "errors": list(plan.errors),
        "problems": [_observation(o) for o in plan.problems],
        "in_sync": plan.in_sync,
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


@cache
def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every ``plan_document`` validates against."""
    text = resources.files("ftops.render").joinpath("plan-schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
