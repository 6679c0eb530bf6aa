"""Together fine-tunes: create, list, retrieve, cancel, delete, events, checkpoints, price estimate, model limits.

Field names and shapes follow the official SDK (``together`` 3.1.1: ``lib/types/fine_tuning.py``'s
``FinetuneRequest`` / ``FinetuneResponse``, ``types/finetune_model_limits.py``, the estimate-price types).
A create checks the request against the model's limits (as the service does), validates the training data
once with ftops' dataset rules and stores the lifecycle timestamps (``together_lifecycle.py``); everything
else is derived from them and the clock. Together assigns ids and refuses nothing as a duplicate: finding an
interrupted create again is the client's job (by suffix and creation time). Secrets (``wandb_key``,
``hf_api_token``) are dropped before anything is stored.
"""

from __future__ import annotations

import json
import math
import sqlite3
import uuid
from datetime import datetime, timezone
from typing import Any

from ftops.localapi import datacheck
from ftops.localapi import together_lifecycle as life
from ftops.localapi.config import Context
from ftops.localapi.together_files import TogetherError
from ftops.localapi.together_files import get_row as get_file_row
from ftops.localapi.together_schemas import EstimateIn, TogetherJobIn
from ftops.pricing import TOGETHER_MODELS, TOGETHER_TOKENS_PER_SECOND, together_quote

# Tokens per optimizer step at batch size "max" (simulated: sets total_steps and the checkpoint steps).
_TOKENS_PER_STEP = 65_536
_SECRETS = ("wandb_key", "wandb_api_key", "hf_api_token")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def model_limits(model: str) -> dict[str, Any]:
    """The limits the SDK reads before every create (``GET /v1/fine-tunes/models/limits``)."""
    if model not in TOGETHER_MODELS:
        raise TogetherError(404, f"Model {model!r} is not available for fine-tuning", "model_not_available")
    big = TOGETHER_MODELS[model] >= 70
    return {
        "model_name": model, "max_num_epochs": 20, "max_num_evals": 100, "max_num_checkpoints": 20,
        "max_learning_rate": 1.0, "min_learning_rate": 1e-8, "default_gradient_accumulation_steps": 1,
        "max_seq_length_sft": 8192 if big else 16384, "max_seq_length_dpo": 4096 if big else 8192,
        "min_max_seq_length": 512, "merge_output_lora": True, "supports_full_training": not big,
        "supports_reasoning": False, "supports_tools": True, "supports_vision": False,
        "lora_training": {"default_rank": 64, "max_rank": 64, "min_batch_size": 8 if big else 1,
                          "max_batch_size": 16 if big else 32, "max_batch_size_dpo": 8 if big else 16,
                          "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                             "down_proj"]},
        "full_training": None if big else {"min_batch_size": 8, "max_batch_size": 32, "max_batch_size_dpo": 16},
    }


def _check_limits(body: TogetherJobIn, limits: dict[str, Any]) -> int:
    """The service's range checks; returns the batch size the job will use ("max" resolved)."""
    def bad(message: str) -> TogetherError:
        return TogetherError(400, message)

    if body.n_epochs > limits["max_num_epochs"]:
        raise bad(f"n_epochs must be at most {limits['max_num_epochs']} for {body.model}")
    if body.n_checkpoints > limits["max_num_checkpoints"]:
        raise bad(f"n_checkpoints must be at most {limits['max_num_checkpoints']} for {body.model}")
    if body.n_evals > limits["max_num_evals"]:
        raise bad(f"n_evals must be at most {limits['max_num_evals']} for {body.model}")
    if body.n_evals and not body.validation_file:
        raise bad("n_evals > 0 requires a validation_file")
    if not limits["min_learning_rate"] <= body.learning_rate <= limits["max_learning_rate"]:
        raise bad(f"learning_rate must be between {limits['min_learning_rate']} and {limits['max_learning_rate']}")
    lora = body.is_lora()
    if not lora and limits["full_training"] is None:
        raise bad(f"Full training is not supported for {body.model}")
    bounds = limits["lora_training"] if lora else limits["full_training"]
    if lora and body.lora_r() > limits["lora_training"]["max_rank"]:
        raise bad(f"lora_r must be at most {limits['lora_training']['max_rank']}")
    top = bounds["max_batch_size_dpo" if body.method() == "dpo" else "max_batch_size"]
    if body.batch_size == "max":
        return int(top)
    if not bounds["min_batch_size"] <= body.batch_size <= top:
        raise bad(f"batch_size must be between {bounds['min_batch_size']} and {top} for this model and method")
    return body.batch_size


def _file(ctx: Context, file_id: str | None, role: str) -> sqlite3.Row | None:
    if not file_id:
        return None
    try:
        return get_file_row(ctx, file_id)
    except TogetherError:
        raise TogetherError(400, f"{role} file {file_id} does not exist") from None


def _tokens(ctx: Context, row: sqlite3.Row | None, model: str) -> tuple[bool, int, str | None]:
    if row is None:
        return True, 0, None
    verdict = datacheck.check(ctx, training=[row], validation=[], kind=None, model=model, skip_share=0.0)
    return verdict.ok, verdict.data_tokens, verdict.message


def estimate_price(ctx: Context, body: EstimateIn) -> dict[str, Any]:
    training = _file(ctx, body.training_file, "Training")
    validation = _file(ctx, body.validation_file, "Validation")
    ok, tokens, _ = _tokens(ctx, training, body.model)
    vok, vtokens, _ = _tokens(ctx, validation, body.model)
    if not ok or not vok:
        return {"estimation_available": False,
                "unavailable_reason": "train_file_invalid" if not ok else "eval_file_invalid"}
    method = str((body.training_method or {}).get("method", "sft"))
    lora = (body.training_type or {"type": "Lora"}).get("type") != "Full"
    quote = together_quote(body.model, data_tokens=tokens, n_epochs=body.n_epochs, validation_tokens=vtokens,
                           n_evals=body.n_evals, method=method, lora=lora)
    return {"estimation_available": True, "allowed_to_proceed": True, "user_limit": 1000.0,
            "estimated_total_price": quote.cost, "estimated_train_token_count": float(quote.train_tokens),
            "estimated_eval_token_count": float(quote.eval_tokens)}


def _stored_request(body: TogetherJobIn, batch_size: int) -> dict[str, Any]:
    raw = body.model_dump(mode="json", exclude=set(_SECRETS))
    raw["batch_size"] = batch_size
    raw["validation_file"] = body.validation_file or None  # the SDK sends "" for none
    raw["training_type"] = body.training_type_echo()
    raw["training_method"] = body.training_method or {"method": "sft", "train_on_inputs": "auto"}
    return raw


def _output_name(ctx: Context, body: TogetherJobIn, job_id: str) -> str:
    base = body.model.split("/")[-1]
    parts = [base] + ([body.suffix] if body.suffix else []) + [job_id.removeprefix("ft-")[:8]]
    return f"{ctx.owner}/{'-'.join(parts)}"


def create(ctx: Context, body: TogetherJobIn) -> dict[str, Any]:
    batch_size = _check_limits(body, model_limits(body.model))
    training = _file(ctx, body.training_file, "Training")
    validation = _file(ctx, body.validation_file, "Validation")
    ok, tokens, message = _tokens(ctx, training, body.model)
    vok, vtokens, vmessage = _tokens(ctx, validation, body.model)
    train_tokens = tokens * body.n_epochs
    total_steps = max(1, math.ceil(train_tokens / _TOKENS_PER_STEP))
    job_id = f"ft-{uuid.uuid4()}"
    with ctx.store.write() as w:
        now = ctx.now()
        times = life.schedule(now, data_ok=ok and vok, speed=ctx.speed,
                              training_seconds=train_tokens / TOGETHER_TOKENS_PER_SECOND + 60)
        row: dict[str, Any] = {
            "id": job_id, "model": body.model, "suffix": body.suffix,
            "request": json.dumps(_stored_request(body, batch_size)),
            "output_name": _output_name(ctx, body, job_id), "data_tokens": tokens, "eval_tokens": vtokens,
            "total_steps": total_steps, "data_message": message or vmessage,
            "created_at": times.created_at, "queued_at": times.queued_at, "running_at": times.running_at,
            "data_ok": int(times.data_ok), "compressing_at": times.compressing_at,
            "uploading_at": times.uploading_at, "completed_at": times.completed_at,
        }
        w.execute(f"INSERT INTO together_jobs ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row)
        stored = _row(w, job_id)
    return render(stored, now, detailed=False)


def _times(row: sqlite3.Row) -> life.TogetherTimes:
    return life.TogetherTimes(
        created_at=row["created_at"], queued_at=row["queued_at"], running_at=row["running_at"],
        data_ok=bool(row["data_ok"]), compressing_at=row["compressing_at"], uploading_at=row["uploading_at"],
        completed_at=row["completed_at"], cancel_requested_at=row["cancel_requested_at"],
        cancelled_at=row["cancelled_at"])


def _row(db: sqlite3.Connection, job_id: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM together_jobs WHERE id = ? AND deleted = 0", (job_id,)).fetchone()
    if row is None:
        raise TogetherError(404, f"Fine-tune job {job_id} not found")
    assert isinstance(row, sqlite3.Row)
    return row


def get(ctx: Context, job_id: str) -> dict[str, Any]:
    return render(_row(ctx.store.conn(), job_id), ctx.now(), detailed=True)


def list_jobs(ctx: Context) -> dict[str, Any]:
    now = ctx.now()
    rows = ctx.store.conn().execute("SELECT * FROM together_jobs WHERE deleted = 0"
                                    " ORDER BY created_at DESC, rowid DESC").fetchall()
    return {"data": [render(r, now, detailed=False) for r in rows]}


def cancel(ctx: Context, job_id: str) -> dict[str, Any]:
    with ctx.store.write() as w:
        now = ctx.now()
        row = _row(w, job_id)
        status = life.status_at(_times(row), now)
        if status in life.TERMINAL:
            raise TogetherError(400, f"Fine-tune job {job_id} is already {status} and cannot be cancelled")
        if status != "cancel_requested":
            w.execute("UPDATE together_jobs SET cancel_requested_at = ?, cancelled_at = ? WHERE id = ?",
                      (now, now + life.CANCELLING_SECONDS / ctx.speed, job_id))
            row = _row(w, job_id)
    return render(row, now, detailed=False)


def delete(ctx: Context, job_id: str) -> dict[str, Any]:
    with ctx.store.write() as w:
        row = _row(w, job_id)
        status = life.status_at(_times(row), ctx.now())
        if status not in life.TERMINAL:
            raise TogetherError(400, f"Fine-tune job {job_id} is {status}; cancel it before deleting it")
        w.execute("UPDATE together_jobs SET deleted = 1 WHERE id = ?", (job_id,))
    return {"message": f"Fine-tune job {job_id} deleted"}


def events(ctx: Context, job_id: str) -> dict[str, Any]:
    row = _row(ctx.store.conn(), job_id)
    return {"data": _events(row, ctx.now())}


def _events(row: sqlite3.Row, now: float) -> list[dict[str, Any]]:
    times = _times(row)
    out = []
    for when, _status, kind, message in life.events(times, now):
        if kind == "job_error" and row["data_message"]:
            message = f"{message}: {row['data_message']}"
        out.append({"object": "fine-tune-event", "created_at": iso(when), "type": kind, "message": message,
                    "level": "error" if kind == "job_error" else "info", "hash": "", "param_count": 0,
                    "token_count": 0, "wandb_url": ""})
    return out


def checkpoints(ctx: Context, job_id: str) -> dict[str, Any]:
    row = _row(ctx.store.conn(), job_id)
    now = ctx.now()
    request = json.loads(row["request"])
    saved = life.checkpoint_steps(_times(row), now, total_steps=row["total_steps"],
                                  n_checkpoints=int(request.get("n_checkpoints") or 1))
    done = life.status_at(_times(row), now) == "completed"
    out = []
    for k, (when, step) in enumerate(saved, start=1):
        final = done and k == len(saved)
        out.append({"checkpoint_type": "Final" if final else f"Intermediate (step {step})",
                    "created_at": iso(when), "path": f"{row['output_name']}" + ("" if final else f":{step}"),
                    "step": step, "checkpoint": "adapter" if request["training_type"]["type"] == "Lora"
                    else "model"})
    out.reverse()
    return {"data": out}


def render(row: sqlite3.Row, now: float, *, detailed: bool) -> dict[str, Any]:
    times = _times(row)
    status = life.status_at(times, now)
    request = json.loads(row["request"])
    steps = life.steps_done(times, now, row["total_steps"])
    done = status == "completed"
    quote = together_quote(row["model"], data_tokens=row["data_tokens"], n_epochs=request["n_epochs"],
                           validation_tokens=row["eval_tokens"], n_evals=request["n_evals"],
                           method=request["training_method"].get("method", "sft"),
                           lora=request["training_type"]["type"] == "Lora")
    out: dict[str, Any] = {
        **{k: request.get(k) for k in ("training_file", "validation_file", "model", "n_epochs", "n_checkpoints",
                                       "n_evals", "batch_size", "learning_rate", "lr_scheduler", "warmup_ratio",
                                       "max_grad_norm", "weight_decay", "training_type", "training_method",
                                       "suffix", "wandb_project_name", "wandb_name", "wandb_entity",
                                       "wandb_base_url", "from_checkpoint", "max_seq_length", "packing",
                                       "random_seed", "train_on_inputs")},
        "id": row["id"], "status": status, "created_at": iso(times.created_at),
        "updated_at": iso(life.updated_at(times, now)),
        "started_at": iso(times.running_at) if now >= times.running_at and times.data_ok else None,
        "model_output_name": row["output_name"],
        "adapter_output_name": f"{row['output_name']}-adapter" if request["training_type"]["type"] == "Lora"
        else None,
        "user_id": ctx_user(row), "owner_address": ctx_user(row), "token_count": row["data_tokens"],
        "total_price": round(quote.cost * 100) if done else 0,  # US cents (the real unit is undocumented)
        "total_steps": row["total_steps"], "steps_completed": steps,
        "epochs_completed": request["n_epochs"] if done else steps * request["n_epochs"] // row["total_steps"],
        "evals_completed": request["n_evals"] if done else 0, "queue_depth": 0,
        "progress": {"estimate_available": status in ("pending", "queued", "running", "compressing", "uploading"),
                     "seconds_remaining": max(0, int(times.completed_at - now))},
        "TrainingFileNumLines": None, "TrainingFileSize": None,
    }
    out["events"] = _events(row, now) if detailed else []
    return out


def ctx_user(row: sqlite3.Row) -> str:
    return str(row["output_name"]).split("/")[0]


def fine_tuned_models(ctx: Context) -> list[dict[str, Any]]:
    """Completed jobs' output models, as ``GET /v1/models`` lists them (type ``"model"``, created by the user)."""
    now = ctx.now()
    rows = ctx.store.conn().execute("SELECT * FROM together_jobs WHERE deleted = 0 AND data_ok = 1"
                                    " AND completed_at <= ? ORDER BY completed_at DESC", (now,)).fetchall()
    return [{"id": r["output_name"], "object": "model", "created": int(r["completed_at"]), "type": "chat",
             "display_name": r["output_name"], "organization": ctx_user(r), "root": r["model"],
             "job": r["id"]} for r in rows if life.status_at(_times(r), now) == "completed"]
