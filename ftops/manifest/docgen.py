"""``docs/manifest-reference.md``, generated from the pydantic schema and the diagnostic code table.

``ftops schema --markdown > docs/manifest-reference.md`` writes it; a test fails when the committed copy
is out of date, so the reference can never disagree with what the loader accepts.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ftops.manifest.codes import CODES
from ftops.manifest.schema import (
    BestOf,
    ClassifierTarget,
    EvaluationSpec,
    FileSpec,
    Hyperparameters,
    JobSpec,
    Metadata,
    ModelSpec,
    MovedSpec,
    SmokeTest,
    TrainingFileRef,
    WandbIntegration,
)

_SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("metadata", Metadata, "Every document: `apiVersion: ftops/v1`, `kind`, `metadata`, `spec`."),
    ("File spec", FileSpec, "`kind: File` — a local JSONL dataset, uploaded once per content hash."),
    ("FineTuningJob spec", JobSpec, "`kind: FineTuningJob` — a fine-tuning job (field names follow the Mistral API)."),
    ("training_files[]", TrainingFileRef, "One training file of a job."),
    ("hyperparameters", Hyperparameters, "Only the hyperparameters you set are sent to the API and compared."),
    ("integrations[]", WandbIntegration, "Weights & Biases logging; the key is read from an environment variable."),
    ("classifier_targets[]", ClassifierTarget, "Classifier jobs only."),
    ("Model spec", ModelSpec, "`kind: Model` — the fine-tuned model a job produces (or the best job of a sweep), "
     "optionally promoted only through a gate."),
    ("best_of", BestOf, "A Model that follows the best finished job of a `matrix` sweep; the plan shows the ranking."),
    ("smoke", SmokeTest, "The short call every new fine-tuned model of a Model must answer before apply names or "
     "promotes it (`smoke: false` turns it off). See docs/evaluation.md."),
    ("Evaluation spec", EvaluationSpec, "`kind: Evaluation` — an evaluation set and its thresholds. A Model with "
     "`gate: <name>` is named/promoted (and the previous model archived) only when its new model passes: a smoke "
     "chat answers, the score reaches `min_score`, the final validation loss is at most `max_valid_loss`, and "
     "(with `not_worse`) it scores no lower than the current model on the same cases. See docs/evaluation.md."),
    ("Moved spec", MovedSpec, "`kind: Moved` — a rename (like Terraform's `moved` block): what the lock tracks at "
     "`from` is tracked at `to`, with no new upload or job. A job's `suffix` defaults to its name, so keep "
     "`suffix: <old name>` in a renamed job that had none, or the new suffix plans a replacement. Keep the "
     "declaration until every lock (every branch, every clone) has applied it."),
]

_PROSE = """\
## Documents

Manifests are YAML files (`*.yaml`, `*.yml`) with one or more documents separated by `---`. `ftops validate`
and `ftops plan` read every manifest under `manifests/` (or the `manifests` setting in `ftops.toml`, or the
paths you pass), recursively, in sorted order; hidden files and folders are skipped. References between
resources use `metadata.name`: a job's `training_files[].file` and `validation_files[]` name Files, a Model's
`job` names a FineTuningJob (or its `best_of.sweep` a `matrix` job) and its `gate` an Evaluation. Add
`# yaml-language-server: $schema=<path>/docs/ftops.schema.json` at the top of a file for completion and
checking in editors (`ftops schema` prints the schema).

```yaml
apiVersion: ftops/v1
kind: FineTuningJob
metadata:
  name: support-v1
spec:
  model: open-mistral-7b
  training_files:
    - file: support-train
  validation_files: [support-validation]
  hyperparameters:
    training_steps: 40
    learning_rate: 1.0e-4
  suffix: support
```

## Training length

Set `training_steps` **or** `epochs`, not both (error M054). With neither, the API picks the length; ftops
estimates the cost of such a job as one epoch over the training data.

## Hyperparameter sweeps (`matrix`)

`matrix` maps hyperparameter names to lists of values. At load time the job expands into one job per
combination (cartesian product, in the order the keys are written), named `<name>-1`, `<name>-2`, …, each with
its combination in `hyperparameters` and its own suffix: the job's `suffix` (or its name) cut so `-<i>` fits
the API's 18 characters. A Model can point at one of them (`job: sweep-2`). A key may not also be set in
`hyperparameters`; every value is checked against the hyperparameter's range.

```yaml
spec:
  matrix:
    learning_rate: [1.0e-4, 1.0e-5]
    training_steps: [10, 20]     # → sweep-1 … sweep-4
```

## Secrets

Secrets are never written in manifests. An integration names the environment variable that holds its key
(`api_key_env: WANDB_API_KEY`); `ftops apply` reads it from the environment and it appears in no output,
lock or plan file. A literal `api_key:` is error M025.
"""


def _type_name(tp: Any) -> str:
    if tp is Any:  # a class on 3.11+, not on 3.10: name it the same everywhere
        return "any"
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_type_name(a) for a in get_args(tp) if a is not type(None)]
        return " \\| ".join(parts) + (" \\| null" if type(None) in get_args(tp) else "")
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(tp))
    if origin is list:
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"map of {_type_name(get_args(tp)[0])} → {_type_name(get_args(tp)[1])}"
    if isinstance(tp, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(tp.__name__, tp.__name__)
    return "any"


def _constraints(info: FieldInfo) -> str:
    out = []
    for m in info.metadata:
        if isinstance(m, at.Ge):
            out.append(f"≥ {m.ge}")
        if isinstance(m, at.Gt):
            out.append(f"> {m.gt}")
        if isinstance(m, at.Le):
            out.append(f"≤ {m.le}")
        if isinstance(m, at.MaxLen):
            out.append(f"at most {m.max_length} chars/items")
        if isinstance(m, at.MinLen):
            out.append(f"at least {m.min_length} item(s)")
        pattern = getattr(m, "pattern", None)
        if isinstance(pattern, str):
            out.append(f"pattern `{pattern}`")
    return ", ".join(out)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        return "empty"
    if info.default is PydanticUndefined or info.default is None:
        return "—"
    return f"`{info.default}`"


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| field | type | default | constraints | description |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if name == "location":
            continue
        desc = (info.description or "").replace("|", "\\|").replace("<", "&lt;")
        limits = _constraints(info).replace("|", "\\|")
        shown = info.alias or name  # `from` is a Python keyword: the field is from_ with the alias users write
        rows.append(f"| `{shown}` | {_type_name(info.annotation)} | {_default(info)} | {limits} | {desc} |")
    return rows


def render_reference() -> str:
    """The whole Markdown reference (deterministic, so the committed copy can be compared in a test)."""
    lines = [
        "# Manifest reference",
        "",
        "<!-- Generated by `ftops schema --markdown > docs/manifest-reference.md`; do not edit by hand. -->",
        "",
        _PROSE,
        "## Fields",
        "",
    ]
    for title, model, intro in _SECTIONS:
        lines += [f"### {title}", "", intro, "", *_table(model), ""]
    lines += [
        "## Diagnostics",
        "",
        "Every problem is reported at once as `file:line:column address: error[CODE]: message` with a hint,",
        "and the command exits 1 without changing anything. Dataset problems found by `ftops validate` keep",
        "their dataset codes (see [dataset-errors.md](dataset-errors.md)).",
        "",
        "| code | meaning | fix |",
        "|---|---|---|",
    ]
    lines += [f"| {code} | {meaning} | {fix} |" for code, (meaning, fix) in CODES.items()]
    return "\n".join(lines) + "\n"
