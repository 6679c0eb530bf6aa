"""The MOVE step: record a declared rename in the lock (no API call, nothing to pay).

Idempotent like every step: when the lock already tracks the object at the new address (an earlier,
interrupted apply got this far) there is nothing left to do.
"""

from __future__ import annotations

from ftops.apply.steps_base import StepContext
from ftops.errors import ApplyError
from ftops.plan.model import Change
from ftops.state.moves import followers


def move(ctx: StepContext, change: Change) -> str:
    old = str((change.before or {}).get("address") or "")
    resources = ctx.store.lock.resources
    if old not in resources:
        current = resources.get(change.address)
        if current is not None and current.remote_id == change.remote_id:
            return f"{change.address}: already moved from {old}"
        raise ApplyError(f"{old} is no longer tracked, so it cannot be moved to {change.address}",
                         where=change.address, hint="the lock changed since the plan; run ftops plan again")
    follow = followers(ctx.store.lock, old, change.address)
    ctx.store.move(old, change.address)
    for address, record in follow.items():  # models naming the moved job follow it (no write when they did)
        ctx.store.put(address, record)
    return f"{change.address}: moved from {old} ({change.remote_id}); no API call"
