"""Models: the fine-tunable base models plus one fine-tuned model per successful job.

A fine-tuned model exists once its job's ``success_at`` has passed (derived, like the job status); what users
change afterwards (name, description, archived, deleted) is kept in the ``models`` table.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ftops.localapi.config import Context, Problem
from ftops.pricing import CLASSIFIER_MODELS, FINE_TUNABLE_MODELS

_BASE_CREATED = 1_717_200_000  # a fixed date (2024-06-01) so base cards never change
_FT = """SELECT j.id AS job, j.model AS root, j.job_type, j.success_at, j.fine_tuned_model AS id,
       m.name, m.description, COALESCE(m.archived, 0) AS archived
  FROM jobs j LEFT JOIN models m ON m.id = j.fine_tuned_model
 WHERE j.fine_tuned_model IS NOT NULL AND j.success_at <= :now AND j.cancel_requested_at IS NULL
   AND j.failed_at IS NULL
   AND COALESCE(m.deleted, 0) = 0"""


def _capabilities(*, classifier: bool, base: str) -> dict[str, bool]:
    return {
        "completion_chat": not classifier, "completion_fim": base.startswith("codestral"),
        "function_calling": not classifier, "fine_tuning": not classifier, "vision": base.startswith("pixtral"),
        "classification": classifier, "moderation": False, "ocr": False, "audio": False,
        "audio_transcription": False,
    }


def _base_card(name: str) -> dict[str, Any]:
    caps = _capabilities(classifier=False, base=name)
    caps["fine_tuning"] = True
    caps["classification"] = name in CLASSIFIER_MODELS
    return {
        "id": name, "object": "model", "created": _BASE_CREATED, "owned_by": "mistralai", "capabilities": caps,
        "name": name, "description": f"{name} (local stand-in)", "max_context_length": 32768, "aliases": [],
        "deprecation": None, "deprecation_replacement_model": None, "default_model_temperature": None,
        "type": "base",
    }


def _ft_card(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    classifier = row["job_type"] == "classifier"
    return {
        "id": row["id"], "object": "model", "created": int(row["success_at"]), "owned_by": ctx.owner,
        "capabilities": _capabilities(classifier=classifier, base=row["root"]), "name": row["name"],
        "description": row["description"], "max_context_length": 32768, "aliases": [], "deprecation": None,
        "type": "fine-tuned", "job": row["job"], "root": row["root"], "archived": bool(row["archived"]),
    }


def list_models(ctx: Context) -> dict[str, Any]:
    rows = ctx.store.conn().execute(_FT + " ORDER BY j.success_at", {"now": ctx.now()}).fetchall()
    return {"object": "list", "data": [_base_card(n) for n in FINE_TUNABLE_MODELS] + [_ft_card(ctx, r) for r in rows]}


def _ft_row(ctx: Context, db: sqlite3.Connection, model_id: str) -> sqlite3.Row:
    row = db.execute(_FT + " AND j.fine_tuned_model = :id", {"now": ctx.now(), "id": model_id}).fetchone()
    if row is None:
        raise Problem(404, f"Model {model_id} not found.")
    assert isinstance(row, sqlite3.Row)
    return row


ft_row = _ft_row  # the fine-tuned model's row, for the inference routes


def retrieve(ctx: Context, model_id: str) -> dict[str, Any]:
    if model_id in FINE_TUNABLE_MODELS:
        return _base_card(model_id)
    return _ft_card(ctx, _ft_row(ctx, ctx.store.conn(), model_id))


def _upsert(ctx: Context, w: sqlite3.Connection, model_id: str, **values: Any) -> None:
    w.execute("INSERT OR IGNORE INTO models (id, modified_at) VALUES (?, ?)", (model_id, ctx.now()))
    sets = ", ".join(f"{k} = :{k}" for k in values)
    w.execute(f"UPDATE models SET {sets}, modified_at = :at WHERE id = :id",
              {**values, "at": ctx.now(), "id": model_id})


def delete(ctx: Context, model_id: str) -> dict[str, Any]:
    if model_id in FINE_TUNABLE_MODELS:
        raise Problem(403, f"Model {model_id} is a base model and cannot be deleted.")
    with ctx.store.write() as w:
        _ft_row(ctx, w, model_id)
        _upsert(ctx, w, model_id, deleted=1)
    return {"id": model_id, "object": "model", "deleted": True}


def update(ctx: Context, model_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.write() as w:
        _ft_row(ctx, w, model_id)
        if changes:
            _upsert(ctx, w, model_id, **changes)
        row = _ft_row(ctx, w, model_id)
    card = _ft_card(ctx, row)
    classifier = row["job_type"] == "classifier"
    out = {k: card[k] for k in ("id", "object", "created", "owned_by", "root", "archived", "name", "description",
                                "max_context_length", "aliases", "job")}
    out.update({
        "workspace_id": ctx.owner, "root_version": row["root"],
        "capabilities": {"completion_chat": not classifier, "completion_fim": False, "function_calling": False,
                         "fine_tuning": False, "classification": classifier},
        "model_type": "classifier" if classifier else "completion",
    })
    if classifier:
        request = ctx.store.conn().execute("SELECT request FROM jobs WHERE id = ?", (row["job"],)).fetchone()
        out["classifier_targets"] = json.loads(request[0])["classifier_targets"]
    return out


def set_archived(ctx: Context, model_id: str, archived: bool) -> dict[str, Any]:
    with ctx.store.write() as w:
        _ft_row(ctx, w, model_id)
        _upsert(ctx, w, model_id, archived=int(archived))
    return {"id": model_id, "object": "model", "archived": archived}
