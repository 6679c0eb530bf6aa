"""Recording what was observed: the lock keeps the status, fine-tuned model and checkpoint count it last saw.

The plan reports a tracked job's progress (``QUEUED → VALIDATED``) and drift (``cancelled outside ftops``)
against what the lock records. Apply and ``ftops refresh`` write what their snapshot showed, so each move
is reported once — in the plan that first saw it — and not in every later plan and PR comment.
"""

from __future__ import annotations

from ftops.apply.protocols import Store
from ftops.apply.steps_base import record_job
from ftops.live import LiveSnapshot


def record_observed(store: Store, live: LiveSnapshot) -> int:
    """Write every tracked job's observed status into the lock; returns how many entries changed."""
    changed = 0
    for address, locked in sorted(store.lock.resources.items()):
        job = live.jobs.get(locked.remote_id) if locked.kind == "job" else None
        if job is None:
            continue
        before = store.lock.resources[address]
        record_job(store, address, job)
        changed += store.lock.resources[address] != before
    return changed
