"""Fine-tuning jobs: create (and dry run), list with filters, get, start, cancel, and the job JSON.

Creating a job validates its data once and stores the lifecycle timestamps (``lifecycle.py``); everything a
client sees afterwards (status, events, checkpoints, metadata, the ``ft:`` model id) is derived from them
and the current time. A job identical to an active one (same model, training files and weights,
hyperparameters and suffix) is refused with 409, as the real service does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sqlite3
import uuid
from datetime import datetime, timezone
from typing import Any

from ftops.localapi import datacheck, lifecycle
from ftops.localapi.config import Context, Problem
from ftops.localapi.files import get_row as get_file_row
from ftops.localapi.schemas import JobIn
from ftops.pricing import CLASSIFIER_MODELS, base_model_of, estimate

_NO_DATA = "At least one training file or repository is required."
# The docs: validation data should be at most 1 MB (min(1 MB, 5% of the training data) as a rule of thumb).
MAX_VALIDATION_BYTES = 1024 * 1024
DEFAULT_FAIL_FRACTION = 0.5
TRAINING_FAILURE = "Training failed: the training process stopped with an internal error (simulated)."


def _times(row: sqlite3.Row) -> lifecycle.JobTimes:
    return lifecycle.JobTimes(
        created_at=row["created_at"],
        validating_at=row["validating_at"],
        validated_at=row["validated_at"],
        validation_ok=bool(row["validation_ok"]),
        started_at=row["started_at"],
        success_at=row["success_at"],
        cancel_requested_at=row["cancel_requested_at"],
        cancelled_at=row["cancelled_at"],
        running_at=row["running_at"],
        failed_at=row["failed_at"],
    )


def _echo_hyperparameters(body: JobIn, job_type: str) -> dict[str, Any]:
    hp = body.hyperparameters.model_dump()
    if job_type == "classifier":
        hp.pop("fim_ratio", None)
    elif hp.get("fim_ratio") is None:
        hp["fim_ratio"] = 0.9
    return hp


def _stored_request(body: JobIn, job_type: str) -> dict[str, Any]:
    """What the job remembers of its request; secrets are dropped here, before anything is stored."""
    return {
        "training_files": [{"file_id": str(f.file_id), "weight": f.weight} for f in body.training_files],
        "validation_files": [str(v) for v in body.validation_files or []],
        "hyperparameters": _echo_hyperparameters(body, job_type),
        "integrations": [
            {"type": "wandb", "project": i.project, "name": i.name, "run_name": i.run_name, "url": None}
            for i in body.integrations or []
        ],
        "repositories": [
            {"type": "github", "name": r.name, "owner": r.owner, "ref": r.ref, "weight": r.weight,
             "commit_id": hashlib.sha1(f"{r.owner}/{r.name}@{r.ref}".encode()).hexdigest()}
            for r in body.repositories or []
        ],
        "classifier_targets": [
            {"name": t.name, "labels": t.labels, "weight": t.weight, "loss_function": t.loss_function or "single_class"}
            for t in body.classifier_targets or []
        ],
        "invalid_sample_skip_percentage": body.invalid_sample_skip_percentage,
    }


def _derive_targets(ctx: Context, training: list[sqlite3.Row], limit: int = 10_000) -> list[dict[str, Any]]:
    """Classifier targets read from the data's ``labels`` when the request names none (as the real service does)."""
    labels: dict[str, set[str]] = {}
    multi: set[str] = set()
    for row in training:
        with open(ctx.store.blob_path(row["sha256"]), "rb") as fh:
            for line in itertools.islice(fh, limit):
                try:
                    found = json.loads(line).get("labels") or {}
                except (ValueError, AttributeError):
                    continue
                for name, value in found.items() if isinstance(found, dict) else ():
                    values = value if isinstance(value, list) else [value]
                    if isinstance(value, list):
                        multi.add(name)
                    labels.setdefault(str(name), set()).update(str(v) for v in values)
    return [{"name": n, "labels": sorted(v), "weight": 1.0, "loss_function": "multi_class" if n in multi
             else "single_class"} for n, v in sorted(labels.items())]


def _fingerprint(body: JobIn, request: dict[str, Any]) -> str:
    key = {
        "model": body.model,
        "training_files": sorted((f["file_id"], f["weight"]) for f in request["training_files"]),
        "hyperparameters": request["hyperparameters"],
        "suffix": body.suffix,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _check_request(ctx: Context, body: JobIn, job_type: str) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    if not body.training_files and not body.repositories:
        raise Problem(422, [{"type": "value_error", "loc": ["body", "job_in"], "msg": f"Value error, {_NO_DATA}",
                             "ctx": {"error": _NO_DATA}}])
    base = base_model_of(body.model)
    if base is None or (job_type == "classifier" and base not in CLASSIFIER_MODELS):
        raise Problem(422, f"Model not available for this type of fine-tuning ({job_type}).")

    def rows(ids: list[str], role: str) -> list[sqlite3.Row]:
        out = []
        for file_id in ids:
            try:
                row = get_file_row(ctx, file_id)
            except Problem:
                raise Problem(422, f"{role} file {file_id} does not exist.") from None
            if row["purpose"] != "fine-tune":
                raise Problem(422, f"{role} file {file_id} was uploaded with purpose '{row['purpose']}'; fine-tuning"
                                   " needs files uploaded with purpose 'fine-tune'.")
            out.append(row)
        return out

    training = rows([str(f.file_id) for f in body.training_files], "Training")
    validation = rows([str(v) for v in body.validation_files or []], "Validation")
    for row in validation:
        if row["bytes"] > MAX_VALIDATION_BYTES:
            raise Problem(422, f"Validation file {row['id']} is {row['bytes']:,} bytes; validation data is limited"
                               f" to 1 MB ({MAX_VALIDATION_BYTES:,} bytes).")
    return training, validation


def _mint_model_id(ctx: Context, row: dict[str, Any], success_at: float) -> str:
    day = datetime.fromtimestamp(success_at, tz=timezone.utc).strftime("%Y%m%d")
    parts = ["ft"] + (["classifier"] if row["job_type"] == "classifier" else []) + [row["model"], ctx.owner, day]
    if row["suffix"]:
        parts.append(row["suffix"])
    parts.append(row["id"].replace("-", "")[:8])
    return ":".join(parts)


def _estimate(row: sqlite3.Row | dict[str, Any], request: dict[str, Any] | None = None,
              validation: dict[str, Any] | None = None) -> Any:
    """The job's cost and duration; ``render`` passes the stored JSON it already parsed (lists parse it once)."""
    request = json.loads(row["request"]) if request is None else request
    validation = json.loads(row["validation"]) if validation is None else validation
    hp = request["hyperparameters"]
    return estimate(row["model"], validation["data_tokens"], training_steps=hp.get("training_steps"),
                    epochs=hp.get("epochs"))


def _fail_fraction(ctx: Context, row: dict[str, Any]) -> float | None:
    """How far into training this job fails: asked for per job (admin endpoint), or by the server's rate."""
    if row.get("fail_fraction") is not None:
        return float(row["fail_fraction"])
    rate = ctx.faults.rate_training_failure
    # Seeded per job, so the same job fails the same way however many servers or restarts are involved.
    if rate and random.Random(f"{ctx.faults.seed}:{row['id']}").random() < rate:
        return DEFAULT_FAIL_FRACTION
    return None


def _start_columns(ctx: Context, row: dict[str, Any], started_at: float) -> dict[str, Any]:
    running_at = started_at + lifecycle.STARTING_SECONDS / ctx.speed
    success_at = running_at + _estimate(row).expected_duration_seconds / ctx.speed
    fraction = _fail_fraction(ctx, row)
    failed_at = running_at + fraction * (success_at - running_at) if fraction is not None else None
    return {"started_at": started_at, "running_at": running_at, "success_at": success_at, "failed_at": failed_at,
            "fine_tuned_model": _mint_model_id(ctx, row, success_at)}


def dry_run(ctx: Context, body: JobIn) -> dict[str, Any]:
    job_type = body.job_type or "completion"
    training, validation = _check_request(ctx, body, job_type)
    verdict = datacheck.check(ctx, training=training, validation=validation,
                              kind="classifier" if job_type == "classifier" else None, model=body.model,
                              skip_share=body.invalid_sample_skip_percentage)
    hp = body.hyperparameters
    est = estimate(body.model, verdict.data_tokens, training_steps=hp.training_steps, epochs=hp.epochs)
    details = "Estimate only; no job was created." + (f" Data problem: {verdict.message}" if verdict.message else "")
    return {
        "object": "job.metadata", "deprecated": True, "details": details,
        "expected_duration_seconds": est.expected_duration_seconds, "cost": est.cost,
        "cost_currency": est.currency, "train_tokens_per_step": est.train_tokens_per_step,
        "train_tokens": est.train_tokens, "data_tokens": est.data_tokens, "estimated_start_time": None,
        "epochs": round(est.epochs, 6), "training_steps": est.training_steps,
    }


def create(ctx: Context, body: JobIn) -> dict[str, Any]:
    job_type = body.job_type or "completion"
    training, validation = _check_request(ctx, body, job_type)
    verdict = datacheck.check(ctx, training=training, validation=validation,
                              kind="classifier" if job_type == "classifier" else None, model=body.model,
                              skip_share=body.invalid_sample_skip_percentage)
    request = _stored_request(body, job_type)
    if job_type == "classifier" and not request["classifier_targets"]:
        request["classifier_targets"] = _derive_targets(ctx, training)
    fingerprint = _fingerprint(body, request)
    job_id = str(uuid.uuid4())
    for integration in request["integrations"]:
        integration["name"] = integration["name"] or job_id  # the spec: the W&B display name defaults to the job id
    wandb = request["integrations"][0] if request["integrations"] else None
    with ctx.store.write() as w:
        now = ctx.now()
        active = w.execute(
            f"SELECT id FROM jobs WHERE fingerprint = :fp AND ({lifecycle.STATUS_SQL}) IN"
            f" ({', '.join(repr(s) for s in lifecycle.ACTIVE)}) LIMIT 1",
            {"fp": fingerprint, "now": now},
        ).fetchone()
        if active is not None:
            raise Problem(409, f"A similar job ({active[0]}) is already queued, validated or running; cancel it"
                               " or change the model, training files, hyperparameters or suffix.")
        times = lifecycle.schedule(now, validation_ok=verdict.ok, speed=ctx.speed)
        row: dict[str, Any] = {
            "id": job_id, "model": body.model, "job_type": job_type, "auto_start": int(body.auto_start),
            "suffix": body.suffix, "fingerprint": fingerprint, "request": json.dumps(request),
            "validation": json.dumps({"message": verdict.message, "data_tokens": verdict.data_tokens}),
            "wandb_project": wandb["project"] if wandb else None, "wandb_name": wandb["name"] if wandb else None,
            "created_at": times.created_at, "validating_at": times.validating_at,
            "validated_at": times.validated_at, "validation_ok": int(verdict.ok), "started_at": None,
            "success_at": None, "cancel_requested_at": None, "cancelled_at": None, "fine_tuned_model": None,
            "running_at": None, "failed_at": None, "fail_fraction": None, "fail_reason": None,
        }
        if body.auto_start and verdict.ok:
            row.update(_start_columns(ctx, row, times.validated_at))
        w.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row)
        stored = w.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
    return render(stored, now, detailed=False)


def _row(ctx: Context, db: sqlite3.Connection, job_id: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise Problem(404, "No fine tuning job matches the given query.")
    assert isinstance(row, sqlite3.Row)
    return row


def get(ctx: Context, job_id: str) -> dict[str, Any]:
    return render(_row(ctx, ctx.store.conn(), job_id), ctx.now(), detailed=True)


def start(ctx: Context, job_id: str) -> dict[str, Any]:
    with ctx.store.write() as w:
        now = ctx.now()
        row = _row(ctx, w, job_id)
        status = lifecycle.status_at(_times(row), now)
        if status != "VALIDATED":
            raise Problem(409, f"Job {job_id} is {status}; only a VALIDATED job can be started.")
        cols = _start_columns(ctx, dict(row), now)
        w.execute("UPDATE jobs SET started_at = :started_at, running_at = :running_at, success_at = :success_at,"
                  " failed_at = :failed_at, fine_tuned_model = :fine_tuned_model WHERE id = :id",
                  {**cols, "id": job_id})
        row = _row(ctx, w, job_id)
    return render(row, now, detailed=True)


def fail(ctx: Context, job_id: str, *, at_fraction: float, reason: str | None) -> dict[str, Any]:
    """Admin: make this job fail during training, ``at_fraction`` of the way through (now, if already past).

    A job not started yet fails that way once it starts; a terminal job cannot be made to fail (409).
    """
    with ctx.store.write() as w:
        now = ctx.now()
        row = _row(ctx, w, job_id)
        times = _times(row)
        status = lifecycle.status_at(times, now)
        if status in lifecycle.TERMINAL or status == "CANCELLATION_REQUESTED":
            raise Problem(409, f"Job {job_id} is {status}; only a job that has not finished can be made to fail.")
        failed_at = None
        start = times.running_from
        if start is not None and times.success_at is not None:
            failed_at = max(now, start + at_fraction * (times.success_at - start))
        w.execute("UPDATE jobs SET fail_fraction = ?, fail_reason = ?, failed_at = ? WHERE id = ?",
                  (at_fraction, reason, failed_at, job_id))
        row = _row(ctx, w, job_id)
    return render(row, now, detailed=True)


def cancel(ctx: Context, job_id: str) -> dict[str, Any]:
    with ctx.store.write() as w:
        now = ctx.now()
        row = _row(ctx, w, job_id)
        status = lifecycle.status_at(_times(row), now)
        if status in lifecycle.TERMINAL:
            raise Problem(409, f"Job {job_id} is already {status}; it cannot be cancelled.")
        if status != "CANCELLATION_REQUESTED":
            w.execute("UPDATE jobs SET cancel_requested_at = ?, cancelled_at = ? WHERE id = ?",
                      (now, now + lifecycle.CANCELLING_SECONDS / ctx.speed, job_id))
            row = _row(ctx, w, job_id)
    return render(row, now, detailed=True)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def list_jobs(
    ctx: Context,
    *,
    page: int,
    page_size: int,
    model: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    status: str | None = None,
    wandb_project: str | None = None,
    wandb_name: str | None = None,
    suffix: str | None = None,
) -> dict[str, Any]:
    now = ctx.now()
    where: list[str] = []
    args: dict[str, Any] = {"now": now, "limit": page_size, "offset": page * page_size}
    for column, value in (("model", model), ("wandb_project", wandb_project), ("wandb_name", wandb_name),
                          ("suffix", suffix)):
        if value is not None:
            where.append(f"{column} = :{column}")
            args[column] = value
    if created_after is not None:
        where.append("created_at >= :after")
        args["after"] = _epoch(created_after)
    if created_before is not None:
        where.append("created_at <= :before")
        args["before"] = _epoch(created_before)
    if status is not None:
        where.append(f"({lifecycle.STATUS_SQL}) = :status")
        args["status"] = status
    cond = " AND ".join(where) or "1"
    db = ctx.store.conn()
    total = db.execute(f"SELECT count(*) FROM jobs WHERE {cond}", args).fetchone()[0]
    rows = db.execute(f"SELECT * FROM jobs WHERE {cond} ORDER BY created_at DESC, rowid DESC"
                      " LIMIT :limit OFFSET :offset", args).fetchall()
    return {"data": [render(r, now, detailed=False) for r in rows], "object": "list", "total": total}


def _metadata(est: Any, times: lifecycle.JobTimes, now: float) -> dict[str, Any]:
    keys = ("expected_duration_seconds", "cost", "cost_currency", "train_tokens_per_step", "train_tokens",
            "data_tokens", "estimated_start_time")
    if est is None or now < times.validated_at:
        return dict.fromkeys(keys)
    return {
        "expected_duration_seconds": est.expected_duration_seconds, "cost": est.cost,
        "cost_currency": est.currency, "train_tokens_per_step": est.train_tokens_per_step,
        "train_tokens": est.train_tokens, "data_tokens": est.data_tokens,
        "estimated_start_time": int(times.started_at) if times.started_at is not None else None,
    }


def render(row: sqlite3.Row, now: float, *, detailed: bool) -> dict[str, Any]:
    times = _times(row)
    status = lifecycle.status_at(times, now)
    request = json.loads(row["request"])
    validation = json.loads(row["validation"])
    est = _estimate(row, request, validation) if times.validation_ok else None
    metadata = _metadata(est, times, now)
    out: dict[str, Any] = {
        "id": row["id"], "object": "job", "auto_start": bool(row["auto_start"]), "model": row["model"],
        "status": status, "job_type": row["job_type"], "created_at": int(row["created_at"]),
        "modified_at": int(lifecycle.modified_at(times, now)),
        "training_files": [f["file_id"] for f in request["training_files"]],
        "validation_files": request["validation_files"], "hyperparameters": request["hyperparameters"],
        "fine_tuned_model": row["fine_tuned_model"] if status == "SUCCESS" else None,
        "suffix": row["suffix"], "integrations": request["integrations"],
        "trained_tokens": metadata["train_tokens"] if status == "SUCCESS" else None,
        "metadata": metadata,
    }
    if row["job_type"] == "classifier":
        out["classifier_targets"] = request["classifier_targets"]
    else:
        out["repositories"] = request["repositories"]
    if detailed:
        out["events"] = _events(validation["message"], row["fail_reason"], times, now)
        steps = est.training_steps if est is not None else 0
        out["checkpoints"] = [
            {"metrics": {"train_loss": c.train_loss, "valid_loss": c.valid_loss,
                         "valid_mean_token_accuracy": c.valid_mean_token_accuracy},
             "step_number": c.step_number, "created_at": int(c.created_at)}
            for c in lifecycle.checkpoints(times, now, steps=steps, seed=int(row["id"][:8], 16),
                                           has_validation=bool(request["validation_files"]))
        ]
    return out


def _events(message: str | None, fail_reason: str | None, times: lifecycle.JobTimes,
            now: float) -> list[dict[str, Any]]:
    out = []
    for at, status in lifecycle.transitions(times, now):
        data: dict[str, Any] = {"status": status}
        if status == "FAILED_VALIDATION":
            data["error"] = message
        elif status == "FAILED":
            data["error"] = fail_reason or TRAINING_FAILURE
        elif status == "VALIDATED" and message:
            data["message"] = message
        out.append({"name": "status-updated", "created_at": int(at), "data": data})
    return out
