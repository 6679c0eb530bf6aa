"""A Plan as a pull-request comment (``ftops plan --format markdown``).

The CI workflow posts it as a *sticky* comment: it finds its previous comment by the hidden marker
``<!-- ftops-plan -->`` on the first line and edits it in place. Layout: a one-line verdict, a warning when
objects changed outside ftops, a table of the changes with their cost, and the full text plan folded in a
``<details>`` block (as a ``diff`` code block so GitHub colours ``+``/``-`` lines). A best_of Model's ranking
comes with a Mermaid chart of its sweep, and the plan's loss charts (``Plan.charts``: the finished jobs'
curves, grouped by sweep and by Model, at most four) are folded in a ``Loss curves`` block.
"""

from __future__ import annotations

from ftops.plan.charts import MAX_CHARTS, MAX_SERIES
from ftops.plan.model import Action, Change, Plan
from ftops.render.curves import mermaid_xychart
from ftops.render.text import NO_CHANGES, SYMBOLS, money, ranking_lines, render_text, summary_line

MARKER = "<!-- ftops-plan -->"
# GitHub rejects comments above 65,536 characters; keep room for the table and the marker.
MAX_DETAILS_CHARS = 50_000


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _cost_cell(change: Change) -> str:
    if change.cost is None or change.cost.cost is None or change.action not in (Action.START, Action.CREATE,
                                                                                 Action.REPLACE):
        return ""
    amount = money(change.cost.cost, change.cost.currency)
    if change.action is not Action.START:
        return f"({amount} once started)"
    return f"{amount} ({'API quote' if change.cost.source == 'api' else 'estimate'})"


def _sweep_charts(plan: Plan) -> list[str]:
    """For a best_of Model: the ranking that chose its job and a Mermaid chart of the sweep's curves."""
    lines: list[str] = []
    seen: set[str] = set()
    for c in plan.changes:
        after = c.after or {}
        if c.address in seen or not after.get("ranking"):
            continue
        seen.add(c.address)
        ranking = ranking_lines(c)
        lines += [f"**`{c.address}`** {ranking[0]}", ""] + [f"{row.strip()}  " for row in ranking[1:]] + [""]
        curves = after.get("curves") or {}
        series = {str(label): [(int(p[0]), float(p[1])) for p in points] for label, points in curves.items()}
        chart = mermaid_xychart(series, title=f"sweep {after.get('sweep')}", metric=str(after.get("by")))
        if chart:
            lines += [chart, ""]
    return lines


def _loss_charts(plan: Plan) -> list[str]:
    """The loss curves of the project's finished jobs (``ftops.plan.charts`` groups and caps them), folded."""
    if not plan.charts:
        return []
    # Open: GitHub draws a Mermaid chart that starts folded with no size.
    lines = ["<details open><summary>Loss curves</summary>", ""]
    for chart in plan.charts:
        series = {label: [(int(p[0]), float(p[1])) for p in points] for label, points in chart.series.items()}
        drawn = mermaid_xychart(series, title=f"{chart.title} · {chart.metric}", metric=chart.metric)
        if drawn:
            lines += [drawn, ""]
    if plan.uncharted:
        lines += [f"<sub>{plan.uncharted} more job(s) with loss curves are not charted here (at most "
                  f"{MAX_CHARTS} charts of {MAX_SERIES} jobs): run `ftops metrics 'job.*' --format markdown`.</sub>",
                  ""]
    return [*lines, "</details>", ""]


def render_markdown(plan: Plan) -> str:
    lines = [MARKER]
    verdict = summary_line(plan) if plan.changes else NO_CHANGES if plan.in_sync else "not in sync"
    lines += [f"### ftops plan — {verdict}", ""]
    lines.append(f"Endpoint `{plan.endpoint}` · lock serial {plan.lock_serial}"
                 + (f" (lineage `{plan.lock_lineage[:8]}`)" if plan.lock_lineage else " (no lock file yet)")
                 + f" · manifests `{plan.manifest_digest[:12]}`")
    lines.append("")
    if plan.drift:
        lines += ["> [!WARNING]", f"> **{len(plan.drift)} object(s) changed outside ftops**", ">"]
        lines += [f"> - `{o.address}`: {_cell(o.message)}" for o in plan.drift]
        lines.append("")
    for error in plan.errors:
        lines += ["> [!CAUTION]", f"> {_cell(error)}", ""]
    if plan.problems:
        lines += ["> [!CAUTION]", f"> **{len(plan.problems)} resource(s) not in sync**", ">"]
        lines += [f"> - `{o.address}`: {_cell(o.message)}" for o in plan.problems]
        lines.append("")
    if plan.changes:
        lines += ["| | Resource | Action | Why | Cost |", "|---|---|---|---|---|"]
        for c in plan.changes:
            why = c.reasons[0] if c.reasons else ""
            lines.append(f"| `{SYMBOLS[c.action]}` | `{c.address}` | {c.action.value} | {_cell(why)} | "
                         f"{_cost_cell(c)} |")
        lines.append("")
        lines += _sweep_charts(plan)
        if plan.total_cost() > 0:
            lines += [f"**Estimated training cost of this plan: {money(plan.total_cost())}** (starts only; created "
                      "jobs park in VALIDATED at no cost).", ""]
    lines += _loss_charts(plan)
    if plan.progress:
        lines += ["<details><summary>Progress since last apply</summary>", ""]
        lines += [f"- `{o.address}`: {_cell(o.message)}" for o in plan.progress]
        lines += ["", "</details>", ""]
    if plan.changes:
        details = render_text(plan, color=False)
        if len(details) > MAX_DETAILS_CHARS:
            details = details[:MAX_DETAILS_CHARS] + "\n… (truncated: run `ftops plan` locally for the rest)\n"
        lines += ["<details><summary>Full plan</summary>", "", "```diff", details.rstrip("\n"), "```", "",
                  "</details>", ""]
    return "\n".join(lines)
