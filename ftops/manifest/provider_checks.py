"""Per-provider manifest checks: a job may only set the fields its provider has, in the shapes it takes.

The job's provider is its ``spec.provider``, else the project's (``provider`` in ftops.toml), else mistral;
one project talks to one provider, so a job naming another one is reported (move the project instead).
A hyperparameter of another provider is reported at its key with the equivalent field as the hint
(``epochs`` ↔ ``n_epochs``), so a project moved from Mistral to Together gets one precise error per field.
"""

from __future__ import annotations

from collections.abc import Iterable

from ftops.manifest import codes
from ftops.manifest.checks import Entry
from ftops.manifest.schema import JobResource, JobSpec
from ftops.providers import get as get_provider

# The same setting under each provider's name, for the hint.
_EQUIVALENT = {"epochs": "n_epochs", "n_epochs": "epochs", "warmup_fraction": "warmup_ratio",
               "warmup_ratio": "warmup_fraction"}
_DEFAULTS = {"job_type": "completion", "classifier_targets": None, "invalid_sample_skip_percentage": 0.0}


def check_providers(entries: Iterable[Entry], *, default: str) -> None:
    for entry in entries:
        if isinstance(entry.resource, JobResource):
            _check_job(entry, entry.resource.spec, entry.resource.spec.provider or default, default)


def _check_job(entry: Entry, spec: JobSpec, name: str, default: str) -> None:
    provider = get_provider(name)
    source = entry.source
    if name != default:
        # One run talks to one provider (the session's client); mixing them in a project is not supported yet.
        source.report(codes.PROVIDER_SHAPE, f"this project runs on {default}; job provider {name} differs",
                      ("spec", "provider"), hint=f'to move the whole project, set provider = "{name}" in ftops.toml; '
                      "one project uses one provider")
    matrix = spec.matrix or {}
    for key in sorted(spec.hyperparameters.model_fields_set | set(matrix)):
        if key in provider.hyperparameters:
            continue
        other = _EQUIVALENT.get(key)
        hint = (f"use {other} on {name}" if other in provider.hyperparameters
                else f"{name} takes: {', '.join(sorted(provider.hyperparameters))}")
        path = ("spec", "matrix", key) if key in matrix else ("spec", "hyperparameters", key)
        source.report(codes.PROVIDER_FIELD, f"hyperparameters.{key} is not a {name} field", path, key=True, hint=hint)
    for field, hint in provider.job_fields_not_supported.items():
        value = getattr(spec, field)
        if field == "state":
            if value == "created":
                source.report(codes.PROVIDER_FIELD, f"state: created is not possible on {name}", ("spec", "state"),
                              hint=hint)
        elif field in spec.model_fields_set and value != _DEFAULTS.get(field):
            source.report(codes.PROVIDER_FIELD, f"{field} is not a {name} field", ("spec", field), key=True, hint=hint)
    if name == "together":
        _check_together_shape(entry, spec)


def _check_together_shape(entry: Entry, spec: JobSpec) -> None:
    source = entry.source
    if len(spec.training_files) != 1 or spec.training_files[0].weight != 1.0:
        source.report(codes.PROVIDER_SHAPE, "a Together job trains on exactly one file (weight 1)",
                      ("spec", "training_files"), hint="merge the datasets into one File, or keep this job on Mistral")
    if len(spec.validation_files) > 1:
        source.report(codes.PROVIDER_SHAPE, "a Together job takes at most one validation file",
                      ("spec", "validation_files"), hint="keep one validation File")
    for i, integration in enumerate(spec.integrations):
        if integration.run_name is not None:
            source.report(codes.PROVIDER_FIELD, f"integrations[{i}].run_name is not a together field",
                          ("spec", "integrations", i, "run_name"), key=True,
                          hint="Together names the W&B run with `name` (sent as wandb_name)")
    hp = spec.hyperparameters
    if hp.dpo_beta is not None and hp.training_method != "dpo":
        source.report(codes.PROVIDER_SHAPE, "dpo_beta needs training_method: dpo",
                      ("spec", "hyperparameters", "dpo_beta"), key=True, hint="set training_method: dpo or remove it")
    if hp.n_evals and not spec.validation_files:
        source.report(codes.PROVIDER_SHAPE, "n_evals > 0 needs a validation file", ("spec", "hyperparameters",
                      "n_evals"), hint="add validation_files: [<File name>] or set n_evals: 0")
