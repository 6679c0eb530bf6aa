"""The read-only half of apply: manifests → Desired, lock + live snapshot → Plan, and showing it.

``ftops plan`` and ``ftops apply`` must compute the same plan from the same inputs, so this module only
chains the shared stages (``load_manifests``, ``build_desired``, ``fetch_snapshot``, ``build_plan``) and
prefers the plan CLI's own pipeline/renderer when they are importable.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftops.client import MistralClient
from ftops.desired import build_desired
from ftops.hashing import HashCache
from ftops.live import fetch_snapshot
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.plan.build import build_plan
from ftops.plan.model import Action, Plan
from ftops.settings import Settings
from ftops.state.model import LockFile

HASH_CACHE = "hashes.json"


def load_project(settings: Settings, paths: Sequence[str | Path] = ()) -> Manifest:
    return load_manifests(list(paths) or list(settings.manifest_paths), root=settings.root)


def compute_plan(
    settings: Settings,
    client: MistralClient,
    lock: LockFile | None,
    manifest: Manifest,
    *,
    targets: Sequence[str] = (),
) -> Plan:
    cache = HashCache.load(settings.state_dir / HASH_CACHE)
    desired = build_desired(manifest, hashes=cache, tokens=_token_lookup(cache))
    cache.save()
    live = fetch_snapshot(client, lock=lock)
    return build_plan(
        desired,
        lock,
        live,
        plan_id=str(uuid.uuid4()),
        now=time.time(),
        endpoint_identity=settings.endpoint_identity,
        targets=list(targets) or None,
    )


def _token_lookup(cache: HashCache) -> Any:
    """The plan CLI's token counter when it exists (same cost figures as ``ftops plan``), else none."""
    try:
        from ftops.cli import plan_cmds

        factory = getattr(plan_cmds, "token_lookup", None)
        return factory(cache) if callable(factory) else None
    except Exception:  # the plan CLI is optional here; an estimate from file sizes is still shown
        return None


_SYMBOLS = {
    Action.UPLOAD: "+", Action.CREATE: "+", Action.START: "▶", Action.CANCEL: "■", Action.REPLACE: "-/+",
    Action.UPDATE: "~", Action.ARCHIVE: "⇣", Action.UNARCHIVE: "⇡", Action.DELETE: "-", Action.FORGET: "×",
    Action.ADOPT: "=", Action.NOOP: " ",
}


def render_plan(plan: Plan, echo: Callable[[str], None], *, color: bool) -> None:
    """The plan CLI's text renderer when available; otherwise a compact Terraform-like listing."""
    try:
        text_render = importlib.import_module("ftops.render.text")
        render = getattr(text_render, "render_text", None)
        if callable(render):
            echo(str(render(plan, color=color)))
            return
    except ImportError:
        pass
    for obs in plan.drift:
        echo(f"  ! {obs.address}: {obs.message}")
    for change in plan.changes:
        echo(f"  {_SYMBOLS[change.action]} {change.address}: {change.action.value}"
             + (f" — {change.reasons[0]}" if change.reasons else ""))
    counts: dict[str, int] = {}
    for change in plan.changes:
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    summary = ", ".join(f"{n} to {a}" for a, n in counts.items())
    cost = plan.total_cost()
    echo(f"Plan: {summary}." + (f" Estimated training cost: ${cost:,.2f}" if cost else ""))
