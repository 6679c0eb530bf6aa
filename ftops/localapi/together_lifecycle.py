"""A Together fine-tune's lifecycle as a pure function of stored timestamps and "now".

The same idea as ``lifecycle.py`` (Mistral): a job row stores when each phase begins, computed once at
creation (or at cancel), and the status, events, checkpoints and whether the output model exists are
derived from them and the current time. Together has no separate start call: a created job trains.

    pending ─► queued ─► running ─► compressing ─► uploading ─► completed
                            └──► user_error (the training data failed the checks)
    non-terminal ──cancel──► cancel_requested ─► cancelled

``error`` (a failure on the provider's side) is in the vocabulary, but no simulated job reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PENDING_SECONDS = 2.0
QUEUED_SECONDS = 3.0
COMPRESSING_SECONDS = 20.0
UPLOADING_SECONDS = 20.0
CANCELLING_SECONDS = 2.0

STATUSES = ("pending", "queued", "running", "compressing", "uploading", "cancel_requested", "cancelled",
            "error", "user_error", "completed")
TERMINAL = frozenset({"completed", "cancelled", "error", "user_error"})


@dataclass(frozen=True)
class TogetherTimes:
    created_at: float
    queued_at: float
    running_at: float
    data_ok: bool
    compressing_at: float
    uploading_at: float
    completed_at: float
    cancel_requested_at: float | None = None
    cancelled_at: float | None = None


def schedule(created_at: float, *, data_ok: bool, training_seconds: float, speed: float) -> TogetherTimes:
    queued_at = created_at + PENDING_SECONDS / speed
    running_at = queued_at + QUEUED_SECONDS / speed
    compressing_at = running_at + training_seconds / speed
    uploading_at = compressing_at + COMPRESSING_SECONDS / speed
    return TogetherTimes(created_at=created_at, queued_at=queued_at, running_at=running_at, data_ok=data_ok,
                         compressing_at=compressing_at, uploading_at=uploading_at,
                         completed_at=uploading_at + UPLOADING_SECONDS / speed)


def status_at(t: TogetherTimes, now: float) -> str:
    if t.cancel_requested_at is not None and now >= t.cancel_requested_at:
        assert t.cancelled_at is not None
        return "cancelled" if now >= t.cancelled_at else "cancel_requested"
    if now < t.queued_at:
        return "pending"
    if now < t.running_at:
        return "queued"
    if not t.data_ok:
        return "user_error"
    if now < t.compressing_at:
        return "running"
    if now < t.uploading_at:
        return "compressing"
    if now < t.completed_at:
        return "uploading"
    return "completed"


# (status reached, event type, message) for each planned phase change.
_PHASES = (
    ("pending", "job_pending", "Fine-tune job created"),
    ("queued", "job_start", "Job queued for training"),
    ("running", "training_start", "Training started"),
    ("compressing", "model_compressing", "Training complete; compressing the model"),
    ("uploading", "model_uploading", "Uploading the model"),
    ("completed", "job_complete", "Fine-tune job completed"),
)


def _planned(t: TogetherTimes) -> list[tuple[float, str, str, str]]:
    at = (t.created_at, t.queued_at, t.running_at, t.compressing_at, t.uploading_at, t.completed_at)
    out = [(when, status, kind, msg) for when, (status, kind, msg) in zip(at, _PHASES, strict=True)]
    if not t.data_ok:
        out = [*out[:2], (t.running_at, "user_error", "job_error", "The training data failed validation")]
    return out


def events(t: TogetherTimes, now: float) -> list[tuple[float, str, str, str]]:
    """(when, status, event type, message) for every change that has happened by ``now``, oldest first."""
    planned = _planned(t)
    if t.cancel_requested_at is not None and now >= t.cancel_requested_at:
        assert t.cancelled_at is not None
        planned = [p for p in planned if p[0] <= t.cancel_requested_at and p[1] not in TERMINAL]
        planned += [(t.cancel_requested_at, "cancel_requested", "cancel_requested", "Cancellation requested"),
                    (t.cancelled_at, "cancelled", "job_stopped", "Job cancelled")]
    return [p for p in planned if p[0] <= now]


def updated_at(t: TogetherTimes, now: float) -> float:
    done = events(t, now)
    return done[-1][0] if done else t.created_at


def steps_done(t: TogetherTimes, now: float, total_steps: int) -> int:
    horizon = now if t.cancel_requested_at is None else min(now, t.cancel_requested_at)
    if not t.data_ok or horizon < t.running_at:
        return 0
    span = max(t.compressing_at - t.running_at, 1e-9)
    return min(total_steps, math.floor(total_steps * (horizon - t.running_at) / span))


def checkpoint_steps(t: TogetherTimes, now: float, *, total_steps: int, n_checkpoints: int) -> list[tuple[float, int]]:
    """(when, step) of the checkpoints saved by ``now``: ``n_checkpoints`` evenly spaced, the last one final."""
    if not t.data_ok:
        return []
    horizon = now if t.cancel_requested_at is None else min(now, t.cancel_requested_at)
    count = max(1, n_checkpoints)
    span = t.compressing_at - t.running_at
    out = []
    for k in range(1, count + 1):
        at = t.running_at + span * k / count
        if at > horizon:
            break
        out.append((at, max(1, round(total_steps * k / count))))
    return out
