"""CLI commands that call models: ``ftops chat`` (one prompt or a JSONL of conversations) and ``ftops eval``.

A model is named by its id (``ft:…`` or a base model) or by an ftops address (``model.X``, or ``job.X`` for the
fine-tuned model of a job), resolved through the lock file. On the local API, answers are simulated (the reply
of the closest training example): every command says so, so nobody mistakes a local score for a real one.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import click

from ftops.cli._output import use_color
from ftops.cli._session import Session, open_session, pass_settings
from ftops.errors import ConfigError, FtopsError
from ftops.evals import ScorerSpec, load_cases, make_scorer, run_eval
from ftops.evals.report import compare_json, render_compare, render_run, run_json
from ftops.settings import Settings
from ftops.state.lockfile import read_lock

SIMULATED_NOTE = ("Note: the local API simulates models (a fine-tuned model answers with the reply of its closest "
                  "training example); scores show direction, not real quality.")


def simulated(session: Session) -> bool:
    host = urlsplit(session.base_url).hostname or ""
    return session.server is not None or host in {"127.0.0.1", "localhost", "::1"}


def resolve_model(target: str, settings: Settings, session: Session) -> str:
    """A model id from an id, ``model.NAME`` or ``job.NAME`` (its fine-tuned model)."""
    kind, _, name = target.partition(".")
    if kind not in {"model", "job"} or not name or target.startswith("ft:"):
        return target
    lock = read_lock(settings.lock_path)
    entry = lock.resources.get(target) if lock is not None else None
    if entry is None:
        raise ConfigError(f"{target} is not in the lock file", where=str(settings.lock_path),
                          hint="apply the project first, or pass the model id (ftops models lists them)")
    if kind == "model":
        return entry.remote_id
    model = entry.fine_tuned_model or session.client.get_job(entry.remote_id).fine_tuned_model
    if not model:
        raise ConfigError(f"{target} has no fine-tuned model yet (job {entry.remote_id})", where=target,
                          hint="wait for the job to succeed (ftops wait), then try again")
    return model


def _conversations(path: Path) -> list[list[dict[str, object]]]:
    return [[dict(m) for m in case.messages] for case in load_cases(path) if case.messages]


@click.command("chat")
@click.argument("target", metavar="MODEL_OR_ADDRESS")
@click.argument("prompt", required=False)
@click.option("--file", "conversations", type=click.Path(dir_okay=False, path_type=Path),
              help="A JSONL of conversations ({\"messages\": [...]}, one per line): each gets one answer.")
@click.option("--system", default=None, help="A system prompt sent before PROMPT.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
def chat_cmd(target: str, prompt: str | None, conversations: Path | None, system: str | None, max_tokens: int,
             fmt: str, settings: Settings) -> None:
    """Ask a model (id, model.NAME or job.NAME) one PROMPT, or every conversation of a JSONL --file."""
    if (prompt is None) == (conversations is None):
        raise FtopsError("give either a PROMPT or --file, not both or neither",
                         hint='e.g. ftops chat model.support "How do I return an item?"')
    echo = (lambda line: click.echo(line, err=True)) if fmt == "json" else click.echo
    with open_session(settings, echo=echo) as session:
        model = resolve_model(target, settings, session)
        if prompt is not None:
            head: list[dict[str, object]] = [{"role": "system", "content": system}] if system else []
            batches: list[list[dict[str, object]]] = [[*head, {"role": "user", "content": prompt}]]
        else:
            assert conversations is not None
            batches = _conversations(conversations)
        answers = [session.client.chat(model, list(messages), max_tokens=max_tokens) for messages in batches]
        if simulated(session):
            echo(SIMULATED_NOTE)
    if fmt == "json":
        click.echo(json.dumps([{"model": model, "answer": a.text, "finish_reason": a.choices[0].finish_reason
                                if a.choices else None, "usage": a.usage.model_dump()} for a in answers], indent=2))
        return
    for answer in answers:
        click.echo(answer.text)


def _declared(name: str, settings: Settings) -> tuple[Path, ScorerSpec, float]:
    """The set, scorer and min_score of a declared Evaluation."""
    from ftops.cli.manifests import default_manifest_paths
    from ftops.manifest.load import load_manifests

    manifest = load_manifests(default_manifest_paths(settings), root=settings.root)
    found = {e.metadata.name: e for e in manifest.evaluations}
    if name not in found:
        raise ConfigError(f"no Evaluation named '{name}' in the manifests", where=name,
                          hint="declared: " + (", ".join(sorted(found)) or "none (add a kind: Evaluation document)"))
    e = found[name]
    spec = ScorerSpec(kind=e.spec.scorer, pattern=e.spec.pattern, value=e.spec.value, schema=e.spec.schema_)
    return manifest.evaluation_path(e), spec, e.spec.min_score


def _scorer_spec(scorer: str, pattern: str | None, value: str | None, schema: Path | None) -> ScorerSpec:
    loaded = None
    if schema is not None:
        try:
            loaded = json.loads(schema.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the JSON schema: {exc}", where=str(schema),
                              hint="pass a file holding one JSON Schema object") from None
    return ScorerSpec(kind=scorer, pattern=pattern, value=value, schema=loaded)


@click.command("eval")
@click.argument("targets", nargs=-1, metavar="MODEL_OR_ADDRESS...")
@click.option("--set", "eval_set", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Evaluation set: JSONL of conversations with expected answers, or texts with labels.")
@click.option("--evaluation", "evaluation", default=None, metavar="NAME",
              help="A declared `kind: Evaluation`: its set, scorer (+ parameters) and min_score.")
@click.option("--scorer", type=click.Choice(["exact", "contains", "regex", "json_schema", "classifier_accuracy"]),
              default=None, help="How to score an answer (default: exact; classifier_accuracy for labelled sets).")
@click.option("--pattern", default=None, help="regex scorer: the pattern an answer must match.")
@click.option("--value", default=None, help="contains scorer: a fixed text instead of each case's expected answer.")
@click.option("--schema", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="json_schema scorer: a file with the JSON Schema answers must satisfy.")
@click.option("--compare", is_flag=True, help="A/B: evaluate exactly two models on the same cases, side by side.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Exit 1 unless every model scores at least this (a gate for CI).")
@click.option("--parallelism", type=click.IntRange(min=1, max=64), default=8, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N cases.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
def eval_cmd(targets: tuple[str, ...], eval_set: Path | None, evaluation: str | None, scorer: str | None,
             pattern: str | None, value: str | None, schema: Path | None, compare: bool, min_score: float | None,
             parallelism: int, max_tokens: int, limit: int | None, fmt: str, settings: Settings) -> None:
    """Score models (ids, model.NAME or job.NAME) on an evaluation set; --compare A B for an A/B table."""
    if not targets or (compare and len(targets) != 2):
        raise FtopsError("name one model to evaluate, or exactly two with --compare",
                         hint="e.g. ftops eval model.support --set data/eval.jsonl, or --compare A B")
    if (eval_set is None) == (evaluation is None):
        raise FtopsError("give either --set FILE or --evaluation NAME",
                         hint="--evaluation names a `kind: Evaluation` declared in the manifests")
    spec: ScorerSpec | None = None
    if evaluation is not None:
        eval_set, spec, declared_min = _declared(evaluation, settings)
        min_score = declared_min if min_score is None else min_score
    assert eval_set is not None
    cases = load_cases(eval_set, limit=limit)
    kind = scorer or (spec.kind if spec else "classifier_accuracy" if cases[0].labels else "exact")
    score_fn = make_scorer(spec if spec is not None and scorer is None else
                           _scorer_spec(kind, pattern, value, schema))
    echo = (lambda line: click.echo(line, err=True)) if fmt == "json" else click.echo
    with open_session(settings, echo=echo) as session:
        models = [resolve_model(t, settings, session) for t in targets]
        echo(f"Evaluating {', '.join(models)} on {len(cases)} case(s) from {eval_set} ({kind}, "
             f"{parallelism} at a time)")
        runs = [run_eval(session.client, m, cases, score_fn, scorer_name=kind, parallelism=parallelism,
                         max_tokens=max_tokens) for m in models]
        note = SIMULATED_NOTE if simulated(session) else None
    plain = not use_color()
    if fmt == "json":
        click.echo(compare_json(runs[0], runs[1], simulated=note is not None) if compare
                   else json.dumps([json.loads(run_json(r, simulated=note is not None)) for r in runs], indent=2))
    elif compare:
        click.echo(render_compare(runs[0], runs[1], labels=targets, plain=plain))
    else:
        for target, run in zip(targets, runs, strict=True):
            click.echo(render_run(run, label=target, plain=plain))
    if note and fmt != "json":
        click.echo(note)
    if min_score is not None:
        failing = [f"{t} {r.score:.3f}" for t, r in zip(targets, runs, strict=True) if r.score < min_score]
        if failing:
            raise FtopsError(f"below --min-score {min_score:g}: {', '.join(failing)}",
                             hint="the model is not good enough on this set; do not promote it")


def register(group: click.Group) -> None:
    for command in (chat_cmd, eval_cmd):
        group.add_command(command)
