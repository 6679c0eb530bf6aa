"""CLI commands ``ftops data validate|stats|fix|split``: parse options, call ``ftops.datasets``, print.

Text output is line-oriented (``path:line: CODE message``) so editors and CI annotate it; ``--format json``
prints the stable objects documented in ``docs/dataset-errors.md``. Tables use rich only on a terminal.
Exit code 1 when a validated file has errors; bad paths and options become one clear error, no traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ftops.cli._output import use_color
from ftops.datasets import codes
from ftops.datasets.report import ValidationReport

KINDS = click.Choice(["instruct", "pretrain", "classifier"])
FORMATS = click.Choice(["text", "json"])


def _use_rich(ctx: click.Context) -> bool:
    return use_color()


def _summary_lines(report: ValidationReport) -> list[str]:
    out = []
    for code, n in sorted(report.error_counts.items()) + sorted(report.warning_counts.items()):
        out.append(f"  {code} ×{n}  {codes.title(code)} — fix: {codes.fix_hint(code)}")
    return out


def _print_report(report: ValidationReport, max_errors: int) -> None:
    for err in report.errors[:max_errors]:
        click.echo(f"{report.path}:{err.line}: {err.code} {err.message}")
    for warn in report.warnings[:max_errors]:
        click.echo(f"{report.path}:{warn.line}: {warn.code} (warning) {warn.message}")
    shown = min(len(report.errors), max_errors)
    if report.error_total > shown:
        click.echo(f"{report.path}: … {report.error_total - shown} more error(s) not shown "
                   f"(--max-errors raises the limit)")
    verdict = "OK" if report.ok else "INVALID"
    tokens = f"{report.data_tokens:,} tokens ({report.tokenizer}{'' if report.tokens_exact else ', estimate'})"
    click.echo(f"{report.path}: {verdict}: {report.kind or 'unknown'} data, {report.valid_lines:,} of "
               f"{report.total_lines:,} lines valid, {report.bytes:,} bytes, {tokens}")
    if report.tokenizer_note:
        click.echo(f"  note: {report.tokenizer_note}")
    for line in _summary_lines(report):
        click.echo(line)


@click.group("data")
def data_group() -> None:
    """Validate, inspect, repair and split JSONL training data."""


@data_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", type=KINDS, default=None, help="Force the data kind (default: from the first valid row).")
@click.option("--model", default=None, help="Base model whose tokenizer counts tokens (default: v3 SentencePiece).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--max-errors", type=click.IntRange(min=0), default=50, show_default=True,
              help="Errors to print per file (all are counted).")
@click.option("--no-tokens", is_flag=True, help="Skip token counting (faster).")
def validate_cmd(files: tuple[str, ...], kind: str | None, model: str | None, fmt: str, max_errors: int,
                 no_tokens: bool) -> None:
    """Check FILES against Mistral's fine-tuning data rules; exit 1 if any line is invalid."""
    from ftops.datasets import validate_path

    reports = [validate_path(f, kind=kind, model=model, count_tokens=not no_tokens,  # type: ignore[arg-type]
                             max_errors=max(max_errors, 1), workers=os.cpu_count() or 1) for f in files]
    if fmt == "json":
        payload: dict[str, Any] = {"version": 1, "ok": all(r.ok for r in reports),
                                   "files": [_trim(r.to_dict(), max_errors) for r in reports]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            _print_report(report, max_errors)
    if not all(r.ok for r in reports):
        sys.exit(1)


def _trim(data: dict[str, Any], max_errors: int) -> dict[str, Any]:
    data["errors"] = data["errors"][:max_errors]
    data["warnings"] = data["warnings"][:max_errors]
    data["errors_truncated"] = sum(data["error_counts"].values()) > len(data["errors"])
    return data


@data_group.command("stats")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--model", default=None, help="Base model (tokenizer, tokens per step for epochs).")
@click.option("--training-steps", type=click.IntRange(min=1), default=None, help="Planned training_steps.")
@click.option("--kind", type=KINDS, default=None, help="Force the data kind.")
@click.option("--validation", is_flag=True, help="Judge the file as a validation file (1 MB limit).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_context
def stats_cmd(ctx: click.Context, file: str, model: str | None, training_steps: int | None, kind: str | None,
              validation: bool, fmt: str) -> None:
    """Examples, messages, roles, lengths, tokens, trained-token share and advice for FILE."""
    from ftops.datasets.stats import compute_stats
    from ftops.datasets.stats_render import render_stats

    st = compute_stats(file, model=model, training_steps=training_steps, kind=kind,  # type: ignore[arg-type]
                       validation=validation)
    if fmt == "json":
        click.echo(json.dumps({"version": 1, **st.to_dict()}, indent=2, ensure_ascii=False))
    else:
        render_stats(st, rich=_use_rich(ctx))


@data_group.command("fix")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the fixed file (never the input).")
@click.option("--kind", type=KINDS, default=None, help="Force the data kind.")
@click.option("--quiet", is_flag=True, help="Only print the summary line.")
def fix_cmd(file: str, output: str, kind: str | None, quiet: bool) -> None:
    """Repair FILE into OUTPUT: legacy functions, tool-call ids, descriptions, trailing turns."""
    from ftops.datasets.fix import fix_file

    result = fix_file(file, output, kind=kind)  # type: ignore[arg-type]
    if not quiet:
        for change in result.changes:
            click.echo(f"{file}:{change.line}: {change.action}: {'; '.join(change.reasons)}")
    click.echo(f"wrote {result.output}: {result.lines_out:,} of {result.lines_in:,} lines "
               f"({result.changed:,} changed, {result.dropped:,} dropped)")


@data_group.command("split")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--eval-fraction", type=float, required=True, help="Share of lines for eval, e.g. 0.05.")
@click.option("--seed", type=int, required=True, help="Same seed, same split, on any machine.")
@click.option("--train", "train", type=click.Path(dir_okay=False), default=None,
              help="Train output (default: FILE.train.jsonl).")
@click.option("--eval", "eval_out", type=click.Path(dir_okay=False), default=None,
              help="Eval output (default: FILE.eval.jsonl).")
def split_cmd(file: str, eval_fraction: float, seed: int, train: str | None, eval_out: str | None) -> None:
    """Split FILE into train and eval sets deterministically (eval capped at the API's 1 MB limit)."""
    from ftops.datasets.split import split_file

    res = split_file(file, eval_fraction=eval_fraction, seed=seed, train=train, eval_out=eval_out)
    click.echo(f"train: {res.train_path}: {res.train_lines:,} lines")
    click.echo(f"eval:  {res.eval_path}: {res.eval_lines:,} lines, {res.eval_bytes:,} bytes")
    if res.capped_lines:
        click.echo(f"note: eval capped at 1 MB (the API's validation-file limit): {res.capped_lines:,} "
                   "line(s) drawn for eval went to train")
    if res.skipped:
        click.echo(f"note: skipped {res.skipped:,} blank or oversized line(s)")


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    group.add_command(data_group)
