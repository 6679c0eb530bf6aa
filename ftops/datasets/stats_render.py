"""Text rendering of ``DatasetStats``: rich tables on a terminal, plain aligned lines otherwise (CI, pipes)."""

from __future__ import annotations

import click

from ftops.datasets.stats import DatasetStats

_DIST_KEYS = ("min", "mean", "p50", "p95", "max")


def _dist(d: dict[str, float]) -> str:
    return "  ".join(f"{k} {d.get(k, 0):,}" for k in _DIST_KEYS)


def _rows(st: DatasetStats) -> list[tuple[str, str]]:
    tokens = f"{st.data_tokens:,}" + ("" if st.tokens_exact else " (estimate)")
    rows = [
        ("file", f"{st.path} ({st.bytes:,} bytes)"),
        ("kind", st.kind or "unknown"),
        ("examples", f"{st.examples:,}" + (f" (+{st.invalid_lines:,} invalid lines)" if st.invalid_lines else "")),
        ("messages / example", _dist(st.messages_per_example)),
        ("content chars / message", _dist(st.content_chars)),
        ("tokens / example", _dist(st.tokens_per_example)),
        ("roles", ", ".join(f"{r} {n:,}" for r, n in sorted(st.roles.items())) or "-"),
        ("tokens", f"{tokens} with {st.tokenizer}"),
        ("trained tokens", f"{st.trained_tokens:,} ({st.trained_share:.1%} carry loss)"),
    ]
    if st.tokenizer_note:
        rows.append(("tokenizer note", st.tokenizer_note))
    if st.epochs is not None:
        rows.append(("epochs", f"{st.epochs:.2f} for {st.training_steps:,} steps on {st.model or 'open-mistral-7b'}"))
    return rows


def render_stats(st: DatasetStats, *, rich: bool) -> None:
    rows = _rows(st)
    if rich:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"ftops data stats: {st.path}", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for key, value in rows:
            table.add_row(key, value)
        console = Console()
        console.print(table)
        for rec in st.recommendations:
            console.print(f"[yellow]•[/yellow] {rec}", highlight=False)
        return
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
    for rec in st.recommendations:
        click.echo(f"recommendation: {rec}")
