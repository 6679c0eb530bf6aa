"""Size of the Markdown plan's *Loss curves* block for big projects (docs/benchmarks.md, "Smoke tests and loss
charts"): synthetic locks whose jobs recorded 300-step curves, charted by ``ftops.plan.charts.loss_charts`` and
rendered by ``render_markdown``. Cheap: no API, no server.

    .venv/bin/python bench/bench_plan_charts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ftops.render.markdown import render_markdown
from tests.unit.plan.test_charts import _curve, _job, _plan


def main() -> None:
    print("| project | charts | jobs charted / left out | block size |")
    print("|---|---|---|---|")
    for sweeps, per in ((6, 8), (1, 50), (50, 1)):
        jobs = [_job(f"s{g}-{i}", f"s{g}" if per > 1 else None) for g in range(sweeps) for i in range(per)]
        curves = {f"job.s{g}-{i}": _curve(1 + i / 10, steps=300) for g in range(sweeps) for i in range(per)}
        plan = _plan(Path(tempfile.mkdtemp()), jobs, curves)  # type: ignore[arg-type]
        markdown = render_markdown(plan)
        start = markdown.index("Loss curves")
        block = markdown[start:markdown.index("</details>", start)]
        shown = sum(len(c.series) for c in plan.charts)
        label = f"{sweeps} sweep(s) × {per} jobs" if per > 1 else f"{sweeps} single jobs"
        print(f"| {label} ({sweeps * per} jobs) | {len(plan.charts)} | {shown} / {plan.uncharted} | "
              f"{len(block.encode()) / 1000:.1f} KB |")


if __name__ == "__main__":
    main()
