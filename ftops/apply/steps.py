"""Dispatch: one step per plan Action (and, for adopt/delete, per resource kind).

Each step is intent → call → outcome → lock write. Non-idempotent calls (upload, create) are bracketed by
an intent fsynced before the POST and resolved by search when the answer is lost (``steps_files``,
``steps_jobs``); idempotent ones (start, cancel, update, archive, unarchive, delete) are simply made and
recorded (``steps_jobs``, ``steps_models``). The shared context and outcomes live in ``steps_base`` and are
re-exported here, so callers import one module.
"""

from __future__ import annotations

from ftops.apply.steps_base import (
    MAX_CREATE_ATTEMPTS,
    Deferred,
    Interrupted,
    PollPolicy,
    Step,
    StepContext,
    forget,
    record_job,
)
from ftops.apply.steps_files import adopt_file, upload
from ftops.apply.steps_gate import gate
from ftops.apply.steps_jobs import adopt_job, cancel, create, past_validated, replace, start
from ftops.apply.steps_models import adopt_model, archive, unarchive, update
from ftops.apply.steps_moves import move
from ftops.apply.steps_smoke import smoke
from ftops.errors import ApplyError, NotFoundError
from ftops.plan.model import Action, Change

__all__ = [
    "MAX_CREATE_ATTEMPTS",
    "MODEL_ACTIONS",
    "Deferred",
    "Interrupted",
    "PollPolicy",
    "StepContext",
    "past_validated",
    "record_job",
    "run_step",
]


def run_step(ctx: StepContext, change: Change) -> str:
    handler = _HANDLERS.get(change.action)
    if handler is None:
        return f"{change.address}: nothing to do for {change.action.value}"
    return handler(ctx, change)


def delete(ctx: StepContext, change: Change) -> str:
    locked = ctx.store.lock.resources.get(change.address)
    remote_id = change.remote_id or (locked.remote_id if locked else None)
    if remote_id is None:
        raise ApplyError("nothing recorded to delete", where=change.address, hint="run ftops plan again")
    try:
        if change.kind == "file":
            ctx.client.delete_file(remote_id)
        elif change.kind == "model":
            ctx.client.delete_model(remote_id)
        else:
            raise ApplyError("jobs cannot be deleted", where=change.address, hint="cancel or forget it instead")
    except NotFoundError:
        pass  # already gone: the goal is reached
    if locked is not None and locked.remote_id == remote_id:
        ctx.store.remove(change.address)
    return f"{change.address}: deleted {remote_id}"


def adopt(ctx: StepContext, change: Change) -> str:
    if change.kind == "file":
        return adopt_file(ctx, change)
    if change.kind == "job":
        return adopt_job(ctx, change)
    return adopt_model(ctx, change)


_HANDLERS: dict[Action, Step] = {
    Action.UPLOAD: upload,
    Action.CREATE: create,
    Action.REPLACE: replace,
    Action.START: start,
    Action.CANCEL: cancel,
    Action.UPDATE: update,
    Action.ARCHIVE: archive,
    Action.UNARCHIVE: unarchive,
    Action.DELETE: delete,
    Action.FORGET: forget,
    Action.ADOPT: adopt,
    Action.MOVE: move,
    Action.GATE: gate,
    Action.SMOKE: smoke,
}

# Steps that need their job's fine-tuned model id (they may be deferred until the job finishes).
MODEL_ACTIONS = frozenset({Action.UPDATE, Action.ARCHIVE, Action.UNARCHIVE, Action.ADOPT, Action.GATE,
                           Action.SMOKE})
