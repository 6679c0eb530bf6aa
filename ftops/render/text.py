"""A Plan as text, in Terraform's idiom: one block per change with a symbol, per-field ``# forces replacement``,
a cost line per job, separate sections for drift and progress, and a one-line footer.

Symbols: ``+`` upload/create, ``=`` adopt, ``▶`` start, ``■`` cancel, ``-/+`` replace, ``~`` update, ``⇣``
archive, ``⇡`` unarchive, ``-`` delete, ``⊘`` forget, ``→`` moved, ``?`` gate or smoke test (checks of a new
model before promotion). Colours come from rich and only on a terminal;
CI, a pipe or ``--no-color`` get the same text without escape codes (``color=False``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from ftops.plan.model import Action, Change, Cost, Plan

# Rendering builds (text, rich style) pieces; only a terminal needs rich itself, so a plan piped to CI, a file
# or a PR never builds rich's spans (for 1,000 changes that was most of the rendering time), and it is printed
# one change at a time (the text of 10,000 changes is megabytes).
Styled = list[tuple[str, str]]

SYMBOLS: dict[Action, str] = {
    Action.UPLOAD: "+",
    Action.CREATE: "+",
    Action.ADOPT: "=",
    Action.START: "▶",
    Action.CANCEL: "■",
    Action.REPLACE: "-/+",
    Action.UPDATE: "~",
    Action.ARCHIVE: "⇣",
    Action.UNARCHIVE: "⇡",
    Action.DELETE: "-",
    Action.FORGET: "⊘",
    Action.MOVE: "→",
    Action.GATE: "?",
    Action.SMOKE: "?",
    Action.NOOP: " ",
}
STYLES: dict[Action, str] = {
    Action.UPLOAD: "green",
    Action.CREATE: "green",
    Action.ADOPT: "cyan",
    Action.START: "yellow",
    Action.CANCEL: "red",
    Action.REPLACE: "magenta",
    Action.UPDATE: "yellow",
    Action.ARCHIVE: "red",
    Action.UNARCHIVE: "yellow",
    Action.DELETE: "red",
    Action.FORGET: "dim",
    Action.MOVE: "cyan",
    Action.GATE: "blue",
    Action.SMOKE: "blue",
    Action.NOOP: "dim",
}
HEADLINES: dict[Action, str] = {
    Action.UPLOAD: "will be uploaded",
    Action.CREATE: "will be created (auto_start=false: it parks in VALIDATED, no training cost yet)",
    Action.ADOPT: "will be adopted (an existing object is recorded in the lock; nothing is written)",
    Action.START: "will be started (training is billed)",
    Action.CANCEL: "will be cancelled",
    Action.REPLACE: "must be replaced (a new job)",
    Action.UPDATE: "will be updated in-place",
    Action.ARCHIVE: "will be archived",
    Action.UNARCHIVE: "will be unarchived",
    Action.DELETE: "will be deleted",
    Action.FORGET: "will be forgotten (removed from the lock; the remote object is left alone)",
    Action.MOVE: "has moved (the lock records it at the new address; no API call, no cost)",
    Action.GATE: "will be evaluated before promotion (a failed gate promotes nothing)",
    Action.SMOKE: "will smoke-test the new model before it is named or promoted (no answer: nothing promoted)",
    Action.NOOP: "is up to date",
}
# Footer order and wording: "Plan: 1 to upload, 2 to create, ..."
SUMMARY_ORDER: tuple[Action, ...] = (
    Action.MOVE,
    Action.UPLOAD,
    Action.ADOPT,
    Action.CREATE,
    Action.REPLACE,
    Action.START,
    Action.SMOKE,
    Action.GATE,
    Action.UPDATE,
    Action.CANCEL,
    Action.ARCHIVE,
    Action.UNARCHIVE,
    Action.DELETE,
    Action.FORGET,
)
NO_CHANGES = "No changes. Your fine-tuning resources match the manifests."
# Which `after` keys a creating change shows, in this order.
_SHOWN = {
    "file": ("path", "filename", "bytes", "sha256"),
    "job": ("model", "job_type", "training_files", "validation_files", "hyperparameters", "suffix",
            "integrations", "classifier_targets", "state"),
    "model": ("job", "name", "description", "archived"),
}


def money(amount: float, currency: str = "USD") -> str:
    return f"${amount:,.2f}" if currency == "USD" else f"{amount:,.2f} {currency}"


def summary_counts(plan: Plan) -> dict[Action, int]:
    counts: dict[Action, int] = {}
    for change in plan.changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    return {a: counts[a] for a in SUMMARY_ORDER if a in counts}


def summary_line(plan: Plan) -> str:
    parts = [f"{n} to {action.value}" for action, n in summary_counts(plan).items()]
    line = "Plan: " + ", ".join(parts) + "."
    started = [c for c in plan.changes if c.action is Action.START and c.cost and c.cost.cost is not None]
    if started:
        currency = started[0].cost.currency if started[0].cost else "USD"
        noun = "job" if len(started) == 1 else "jobs"
        line += f" Estimated training cost: {money(plan.total_cost(), currency)} ({len(started)} {noun})."
    return line


def cost_line(cost: Cost) -> str:
    amount = money(cost.cost, cost.currency) if cost.cost is not None else "unknown"
    facts = []
    if cost.train_tokens is not None:
        facts.append(f"{cost.train_tokens:,} train tokens")
    if cost.training_steps is not None:
        facts.append(f"{cost.training_steps:,} steps")
    if cost.epochs:
        facts.append(f"{cost.epochs:.2f} epochs")
    if cost.data_tokens is not None:
        counted = "exact count" if cost.tokens_exact else "estimated count"
        facts.append(f"{cost.data_tokens:,} data tokens, {counted}" if cost.source == "estimate"
                     else f"{cost.data_tokens:,} data tokens")
    if cost.expected_duration_seconds:
        facts.append(f"~{_duration(cost.expected_duration_seconds)}")
    source = "quoted by the API" if cost.source == "api" else "estimated"
    return f"cost: {amount} {source}" + (f" ({'; '.join(facts)})" if facts else "")


def _duration(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fields_to_show(change: Change) -> dict[str, Any]:
    after = change.after or {}
    source = after.get("spec", after) if change.kind == "job" else after
    shown = {k: source[k] for k in _SHOWN[change.kind] if k in source and source[k] not in (None, [], {})}
    if change.kind == "job" and "state" in after:
        shown["state"] = after["state"]
    return shown


def _headline(change: Change) -> str:
    provider = change.job_spec.provider if change.job_spec is not None else "mistral"
    if change.action is Action.CREATE and provider != "mistral":
        return f"will be created (on {provider} a created job trains at once: this is the billed step)"
    return HEADLINES[change.action]


def _change_block(change: Change, out: Styled) -> None:
    symbol, style = SYMBOLS[change.action], STYLES[change.action]
    name = change.address.split(".", 1)[1]
    target = f" {change.remote_id}" if change.remote_id else ""
    out.append((f"  # {change.address}{target} {_headline(change)}\n", "bold"))
    for reason in change.reasons:
        out.append((f"  # {reason}\n", "dim"))
    out.append((f"{symbol:>3} ", f"bold {style}"))
    out.append((f'{change.kind} "{name}"', ""))
    body = _body(change)
    if not body:
        out.append(("\n", ""))
        return
    out.append((" {\n", ""))
    out.extend((f"      {line}\n", line_style) for line, line_style in body)
    out.append(("    }\n", ""))


def _body(change: Change) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for fc in change.field_changes:
        mark = "  # forces replacement" if fc.forces_replacement else ""
        lines.append((f"~ {fc.path} = {_value(fc.before)} -> {_value(fc.after)}{mark}", "yellow"))
    if change.action in (Action.UPLOAD, Action.CREATE, Action.ADOPT) or (
        change.action is Action.UPDATE and change.remote_id is None
    ):
        width = max((len(k) for k in _fields_to_show(change)), default=0)
        changed = {fc.path for fc in change.field_changes}
        for key, value in _fields_to_show(change).items():
            if key not in changed:
                lines.append((f"+ {key:<{width}} = {_value(value)}", "green"))
    if change.depends_on:
        lines.append((f"  (after {', '.join(change.depends_on)})", "dim"))
    if change.action is Action.REPLACE and change.replaced_remote_id:
        fate = "cancelled" if change.old_job_disposition == "cancel" else "kept"
        lines.append((f"  old job {change.replaced_remote_id} will be {fate}", "dim"))
    if change.cost is not None and change.action in (Action.CREATE, Action.START, Action.REPLACE):
        lines.append((f"  {cost_line(change.cost)}", "cyan"))
        lines.extend((f"    {n}", "yellow" if n.startswith("Warning") else "dim") for n in change.cost.notes)
    if change.gate is not None:
        gate = change.gate
        lines.append((f"  evaluation {gate.evaluation}: {gate.path} ({gate.thresholds()})", "blue"))
    if change.smoke is not None:
        lines.append((f"  {change.smoke.describe()}", "blue"))
    ranking = (change.after or {}).get("ranking")
    if isinstance(ranking, list) and ranking:
        lines.extend((f"  {line}", "cyan") for line in ranking_lines(change))
    return lines


def ranking_lines(change: Change) -> list[str]:
    """A best_of model's sweep ranking (best first), as the plan recorded it in ``after``."""
    after = change.after or {}
    rows = [r for r in after.get("ranking") or [] if isinstance(r, list) and len(r) == 2]
    head = f"ranking of sweep {after.get('sweep')} by {after.get('by')} (last checkpoint):"
    lines = [head]
    for i, (address, value) in enumerate(rows, start=1):
        shown = "no value" if value is None else f"{value:.4f}"
        lines.append(f"  {i}. {address} {shown}{'  ← chosen' if address == after.get('job') else ''}")
    return lines


def _plan_parts(plan: Plan) -> Iterator[Styled]:
    """The plan text in parts (the head, each change, the foot), so that a plan of 10,000 changes is printed
    part by part (``iter_text``) instead of being held whole."""
    out: Styled = []
    if plan.drift:
        out.append(("Objects changed outside ftops:\n", "bold yellow"))
        out.extend((f"  ! {obs.address}: {obs.message}\n", "yellow") for obs in plan.drift)
        out.append(("\n", ""))
    if plan.progress:
        out.append(("Progress since last apply:\n", "bold"))
        out.extend((f"  · {obs.address}: {obs.message}\n", "") for obs in plan.progress)
        out.append(("\n", ""))
    out.extend((f"Error: {error}\n", "bold red") for error in plan.errors)
    if plan.problems:
        out.append(("Not in sync (nothing is retried on its own):\n", "bold red"))
        out.extend((f"  ✗ {obs.address}: {obs.message}\n", "red") for obs in plan.problems)
        out.append(("\n", ""))
    if not plan.changes:
        if not plan.problems and not plan.errors:
            out.append((NO_CHANGES + "\n", "bold green"))
        else:
            out.append(("No changes are planned, but the resources do not match the manifests (see above).\n",
                        "bold red"))
        yield out
        return
    out.append(("ftops will perform the following actions:\n\n", ""))
    yield out
    for change in plan.changes:
        block: Styled = []
        _change_block(change, block)
        block.append(("\n", ""))
        yield block
    out = [(summary_line(plan) + "\n", "bold")]
    creates = [c for c in plan.changes if c.action in (Action.CREATE, Action.REPLACE)]
    if creates and not any(c.action is Action.START for c in plan.changes):
        out.append(("New jobs park in VALIDATED: nothing is trained until a start is planned.\n", "dim"))
    yield out


def render_text_rich(plan: Plan) -> Any:
    """The plan as one rich ``Text`` (what a terminal gets, coloured)."""
    from rich.text import Text

    out = Text()
    for part in _plan_parts(plan):
        for text, style in part:
            out.append(text, style=style or None)
    return out


def iter_text(plan: Plan, *, color: bool = False, width: int = 120) -> Iterator[str]:
    """``render_text`` in pieces, to print one at a time; without colour nothing holds the whole text."""
    if color:
        yield render_text(plan, color=True, width=width)
        return
    for part in _plan_parts(plan):
        yield "".join(text for text, _ in part)


def render_text(plan: Plan, *, color: bool = False, width: int = 120) -> str:
    """The plan as text; ``color=True`` adds ANSI styles (only for a terminal)."""
    if not color:
        return "".join(iter_text(plan))
    from rich.console import Console

    rich_text = render_text_rich(plan)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="standard", width=width, soft_wrap=True)
    console.print(rich_text, end="")
    return buffer.getvalue()
