"""Pictures of loss curves: a Mermaid ``xychart-beta`` for Markdown (GitHub renders it in a PR comment), a
terminal chart (plotext) and a PNG file (matplotlib). Drawing libraries are the ``ftops[plots]`` extra; without
them the terminal falls back to the metrics table and a hint, and ``--png`` says what to install."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ftops.errors import ConfigError

Series = Mapping[str, Sequence[tuple[int, float]]]  # label → [(step, value)], steps ascending
PLOTS_HINT = "install the drawing libraries: pip install 'ftops[plots]'"


def _steps(series: Series) -> list[int]:
    return sorted({step for points in series.values() for step, _ in points})


def mermaid_xychart(series: Series, *, title: str, metric: str) -> str:
    """A fenced Mermaid chart: one line per series over the union of steps (a gap repeats the last value)."""
    steps = _steps(series)
    if not steps:
        return ""
    values = [v for points in series.values() for _, v in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.1
    # Quoted: Mermaid reads a bare number in a category list as a number, not as a category name.
    categories = ", ".join(f'"{s}"' for s in steps)
    lines = ["```mermaid", "xychart-beta", f'    title "{_quote(title)}"',
             f'    x-axis "step" [{categories}]',
             f'    y-axis "{_quote(metric)}" {_number(max(0.0, low - pad))} --> {_number(high + pad)}']
    for points in series.values():
        by_step = dict(points)
        row: list[float] = []
        last = points[0][1] if points else 0.0
        for step in steps:
            last = by_step.get(step, last)
            row.append(last)
        lines.append(f"    line [{', '.join(_number(v) for v in row)}]")
    lines.append("```")
    legend = ", ".join(f"line {i + 1}: {label}" for i, label in enumerate(series))
    return "\n".join(lines) + f"\n\n<sub>{legend}</sub>"


def _number(value: float) -> str:
    """Plain decimal notation: Mermaid's numbers have no exponent (``1e-05`` would not parse)."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _quote(text: str) -> str:
    return text.replace('"', "'")


def terminal_chart(series: Series, *, title: str, metric: str, width: int = 80, height: int = 18) -> str | None:
    """The curves as terminal text, or None when plotext is not installed."""
    try:
        import plotext as plt
    except ImportError:
        return None
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.title(title)
    plt.xlabel("step")
    plt.ylabel(metric)
    for label, points in series.items():
        if points:
            plt.plot([s for s, _ in points], [v for _, v in points], label=label, marker="braille")
    text: str = plt.build()
    plt.clear_figure()
    return text


def save_png(series: Series, path: Path, *, title: str, metric: str) -> Path:
    """Draw the curves to ``path`` (PNG) with matplotlib's non-interactive backend."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("drawing a PNG needs matplotlib", hint=PLOTS_HINT) from None
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for label, points in series.items():
        if points:
            ax.plot([s for s, _ in points], [v for _, v in points], marker="o", markersize=3, label=label)
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize="small")
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise ConfigError(f"cannot write the chart: {exc.strerror or exc}", where=str(path),
                          hint="choose a writable path for --png") from None
    finally:
        plt.close(fig)
    return path
