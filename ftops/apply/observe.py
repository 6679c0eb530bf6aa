"""Recording what was observed: the lock keeps the status, fine-tuned model and checkpoint count it last saw.

The plan reports a tracked job's progress (``QUEUED → VALIDATED``) and drift (``cancelled outside ftops``)
against what the lock records. Apply and ``ftops refresh`` write what their snapshot showed, so each move
is reported once — in the plan that first saw it — and not in every later plan and PR comment.

A finished job's loss curves are only on the detailed answer: a job that succeeded without apply seeing its
checkpoints (it finished between two applies) gets one detailed GET — once in its life, at most
``MAX_CURVE_READS`` per run — so the lock holds its curve and every later plan can chart it for free.
"""

from __future__ import annotations

from ftops.apply.protocols import ApiClient, Store
from ftops.apply.steps_base import record_job
from ftops.errors import NotFoundError
from ftops.live import LiveSnapshot

MAX_CURVE_READS = 20


def record_observed(store: Store, live: LiveSnapshot, client: ApiClient | None = None) -> int:
    """Write every tracked job's observed status into the lock (and, with ``client``, the curves of finished
    jobs the lock lacks); returns how many entries changed."""
    changed = 0
    for address, locked in sorted(store.lock.resources.items()):
        job = live.jobs.get(locked.remote_id) if locked.kind == "job" else None
        if job is None:
            continue
        before = store.lock.resources[address]
        record_job(store, address, job)
        changed += store.lock.resources[address] != before
    if client is not None:
        changed += _record_curves(store, live, client)
    return changed


def _record_curves(store: Store, live: LiveSnapshot, client: ApiClient) -> int:
    wanted = [(address, locked.remote_id) for address, locked in sorted(store.lock.resources.items())
              if locked.kind == "job" and "curve" not in locked.attributes
              and (job := live.jobs.get(locked.remote_id)) is not None and job.status == "SUCCESS"]
    for address, job_id in wanted[:MAX_CURVE_READS]:
        try:
            detailed = client.get_job(job_id)
        except NotFoundError:
            continue
        record_job(store, address, detailed)
        if "curve" not in store.lock.resources[address].attributes:  # no checkpoints: so it is not asked again
            store.set_attribute(address, "curve", {})
    return min(len(wanted), MAX_CURVE_READS)
