"""What every apply step shares: its context, the two non-error outcomes, and recording a job's progress.

A step returns a one-line summary, raises ``Deferred`` when it needs a fine-tuned model that does not exist
yet, raises ``Interrupted`` when the user stopped it while it was waiting, and raises an FtopsError when its
branch must stop. The per-kind steps live in ``steps_files``, ``steps_jobs`` and ``steps_models``; the
dispatcher in ``steps`` maps plan Actions to them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftops.apply.protocols import ApiClient, Store
from ftops.client.models import RemoteJob
from ftops.errors import ApplyError, FtopsError
from ftops.metrics import curve_record, job_metrics
from ftops.plan.model import Change, Reason

# A POST the API answered with 500/502/503 (it did not take it) may be re-issued; this many times in all.
MAX_CREATE_ATTEMPTS = 3
# How long an unanswered POST (timeout, dropped connection, 504) is searched for before apply stops.
SETTLE_SECONDS_DEFAULT = 90.0
SETTLE_ENV = "FTOPS_SETTLE_SECONDS"


class Deferred(Exception):
    """The step needs something that does not exist yet (a job's fine-tuned model)."""

    def __init__(self, reason: str, *, job_address: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.job_address = job_address


class Interrupted(Exception):
    """The user asked to stop while this step was waiting."""


@dataclass
class PollPolicy:
    first: float = 0.25
    factor: float = 1.6
    cap: float = 3.0
    timeout: float = 900.0

    def delays(self) -> list[float]:
        out: list[float] = []
        delay, total = self.first, 0.0
        while total < self.timeout:
            out.append(delay)
            total += delay
            delay = min(delay * self.factor, self.cap)
        return out


@dataclass(frozen=True)
class SettlePolicy:
    """Searching for the result of a POST whose answer was lost, with bounded backoff.

    A request that got no answer may still be running on the server (a slow upload, a queue): sending it
    again could create a second paid job, so apply only searches — after 0, 0.5, 1, 2, 4, 8, 8, ... s —
    until the object appears or ``total`` seconds have passed. Then it stops with a report and leaves the
    intent open; the next apply searches again before anything is sent.
    """

    total: float = SETTLE_SECONDS_DEFAULT
    first: float = 0.5
    cap: float = 8.0

    @classmethod
    def from_env(cls) -> SettlePolicy:
        raw = os.environ.get(SETTLE_ENV)
        try:
            return cls(total=max(0.0, float(raw))) if raw else cls()
        except ValueError:
            return cls()

    def delays(self) -> Iterator[float]:
        """0 first (search at once), then growing waits whose sum stays within ``total``."""
        yield 0.0
        delay, spent = self.first, 0.0
        while spent + delay <= self.total:
            yield delay
            spent += delay
            delay = min(delay * 2, self.cap)
        if spent < self.total:
            yield self.total - spent


@dataclass
class StepContext:
    client: ApiClient
    store: Store
    root: Path
    echo: Callable[[str], None]
    stop: threading.Event = field(default_factory=threading.Event)
    poll: PollPolicy = field(default_factory=PollPolicy)
    settle: SettlePolicy = field(default_factory=SettlePolicy.from_env)
    env: dict[str, str] | None = None  # None: os.environ, read at call time only


Step = Callable[[StepContext, Change], str]


def failed(change: Change, what: str, exc: FtopsError) -> ApplyError:
    return ApplyError(
        f"{what} failed: {exc.message}",
        where=change.address,
        hint="the API did not accept it and nothing was created; run ftops apply again later",
    )


def is_removal(change: Change) -> bool:
    """A change the plan made because the resource left the manifests: forget it once done.

    Plans since format 1.1 say so with ``reason``; older saved plans only by carrying no ``after``.
    """
    if change.reason is not None:
        return change.reason is Reason.REMOVED
    return change.after is None


def forget(ctx: StepContext, change: Change) -> str:
    if change.address in ctx.store.lock.resources:
        ctx.store.remove(change.address)
    return f"{change.address}: forgotten (the remote object is left alone)"


def record_job(store: Store, address: str, job: RemoteJob) -> None:
    """Record a job's observed status, fine-tuned model id, checkpoint count, final losses and loss curves (when
    the answer carries checkpoints), if the lock tracks that job.

    What the lock records is what the next plan compares against: recording what was observed is what
    makes "progress since last apply" and drift reported once, not in every plan.
    """
    locked = store.lock.resources.get(address)
    if locked is None or locked.remote_id != job.id:
        return
    changes: dict[str, Any] = {
        "status": job.status,
        "fine_tuned_model": job.fine_tuned_model or locked.fine_tuned_model,
    }
    attributes = dict(locked.attributes)
    final = job.terminal and "curve" not in attributes  # a finished job's curves are recorded once, complete
    if job.checkpoints is not None and (len(job.checkpoints) != int(attributes.get("checkpoints", 0) or 0) or final):
        attributes["checkpoints"] = len(job.checkpoints)
        # The final losses, so `ftops status` shows them without a detailed GET per job.
        last = max(job.checkpoints, key=lambda c: c.step_number).metrics if job.checkpoints else {}
        for key in ("train_loss", "valid_loss"):
            value = last.get(key)
            if isinstance(value, float):
                attributes[key] = round(value, 6)
        if job.terminal:  # the final curves (thinned): a plan's Markdown charts them without a GET per job
            attributes["curve"] = curve_record(job_metrics(job))
        changes["attributes"] = attributes
    same = locked.status == changes["status"] and locked.fine_tuned_model == changes["fine_tuned_model"]
    if same and "attributes" not in changes:
        return
    store.put(address, locked.model_copy(update=changes))
