"""What a job costs: the API's own quote when the job exists, else ``ftops.pricing.estimate`` from token counts.

The API fills a job's ``metadata`` (cost, tokens, duration) once it has validated the data; before that (or
for a job that does not exist yet) the plan estimates from the local token count (exact with the model's
tokenizer, or a byte-based guess — ``Cost.tokens_exact`` says which) and the one rate table.
"""

from __future__ import annotations

from collections.abc import Iterable

from ftops.client import MistralClient
from ftops.client.models import RemoteJob
from ftops.desired import DesiredJob
from ftops.errors import ApiError, Diagnostic, ManifestError, PolicyError
from ftops.manifest import codes
from ftops.manifest._report import did_you_mean
from ftops.plan.model import Cost
from ftops.pricing import (
    CLASSIFIER_MODELS,
    CURRENCY,
    MINIMUM_JOB_COST_USD,
    Estimate,
    base_model_of,
    estimate,
    rate_for,
)

# Past this many passes over the data a fine-tune mostly memorises it; Mistral's guides use 1 to 10.
MAX_SANE_EPOCHS = 20.0
# The 0.4 SDK refused more than this many steps client-side; more is almost always a slip.
MAX_SANE_STEPS = 10_000


def job_cost(job: DesiredJob, remote: RemoteJob | None = None) -> Cost:
    quoted = _quote(remote) if remote is not None else None
    return quoted if quoted is not None else estimate_cost(job)


def estimate_cost(job: DesiredJob) -> Cost:
    model = job.spec["model"]
    if job.spec.get("provider", "mistral") != "mistral":
        return _provider_estimate(job, str(job.spec["provider"]))
    if base_model_of(model) is None:
        # Never price a typo as a neighbouring model (the manifest check M056 normally stops it earlier).
        raise PolicyError(f"{job.address}: '{model}' is not a fine-tunable base model; refusing to price it",
                          where=job.address, hint="fix spec.model (ftops validate suggests the closest model)")
    hp = job.spec["hyperparameters"]
    e = estimate(model, job.data_tokens or 0, training_steps=hp.get("training_steps"), epochs=hp.get("epochs"))
    return Cost(
        data_tokens=e.data_tokens,
        train_tokens=e.train_tokens,
        training_steps=e.training_steps,
        epochs=round(e.epochs, 4),
        cost=e.cost,
        currency=e.currency,
        expected_duration_seconds=e.expected_duration_seconds,
        source="estimate",
        tokens_exact=job.tokens_exact,
        notes=explain(e, model=model, requested_epochs=hp.get("epochs")),
    )


def _epochs(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def explain(e: Estimate, *, model: str, requested_epochs: float | None) -> list[str]:
    """Why the figures are what they are, and warnings worth reading before paying."""
    notes: list[str] = []
    if e.data_tokens and requested_epochs is not None and e.epochs > requested_epochs * 1.05:
        if e.training_steps == 1:
            notes.append(f"requested {_epochs(requested_epochs)} epochs; the minimum of one step "
                         f"({e.train_tokens_per_step:,} tokens) trains {_epochs(e.epochs)} epochs of this data")
        else:
            notes.append(f"requested {_epochs(requested_epochs)} epochs; steps are whole, so {e.training_steps:,} "
                         f"steps of {e.train_tokens_per_step:,} tokens train {_epochs(e.epochs)} epochs")
    raw = e.train_tokens / 1e6 * rate_for(model).usd_per_million_train_tokens
    if raw < MINIMUM_JOB_COST_USD and e.cost <= MINIMUM_JOB_COST_USD:
        notes.append(f"${MINIMUM_JOB_COST_USD:.2f} is the minimum job fee (the training tokens alone: ${raw:.2f})")
    notes.extend(warnings(e.epochs, e.training_steps))
    return notes


def warnings(epochs: float | None, steps: int | None) -> list[str]:
    out = []
    if epochs is not None and epochs > MAX_SANE_EPOCHS:
        out.append(f"Warning: {_epochs(epochs)} epochs is far past the usual 1-10 passes over the data and is likely "
                   f"to overfit; lower training_steps (or set epochs), or add data")
    if steps is not None and steps > MAX_SANE_STEPS:
        out.append(f"Warning: {steps:,} training steps is more than {MAX_SANE_STEPS:,}; check training_steps "
                   "before starting this job")
    return out


def _provider_estimate(job: DesiredJob, name: str) -> Cost:
    """Another provider's price from its own rows of the rate table (``Provider.quote``)."""
    from ftops.providers import get as get_provider

    hp = dict(job.spec["hyperparameters"])
    q = get_provider(name).quote(str(job.spec["model"]), job.data_tokens or 0, hp)
    epochs = hp.get("n_epochs", 1)
    return Cost(data_tokens=job.data_tokens, train_tokens=q.train_tokens,
                epochs=float(epochs) if isinstance(epochs, int | float) else None, cost=q.cost, currency=q.currency,
                source="estimate", tokens_exact=job.tokens_exact)


def _quote(remote: RemoteJob) -> Cost | None:
    md = remote.metadata
    # Right after creation the API reports cost 0.0 with no tokens: that is "not quoted yet", not free.
    if md is None or md.cost is None or not (md.cost > 0 or md.train_tokens):
        return None
    steps = md.train_tokens // md.train_tokens_per_step if md.train_tokens and md.train_tokens_per_step else None
    epochs = round(md.train_tokens / md.data_tokens, 4) if md.train_tokens and md.data_tokens else None
    return Cost(
        data_tokens=md.data_tokens,
        train_tokens=md.train_tokens,
        training_steps=steps,
        epochs=epochs,
        cost=md.cost,
        currency=md.cost_currency or CURRENCY,
        expected_duration_seconds=md.expected_duration_seconds,
        source="api",
        tokens_exact=True,
        notes=warnings(epochs, steps),
    )


def refuse_unknown_models(client: MistralClient, jobs: Iterable[DesiredJob]) -> None:
    """Online check before pricing: each new job's ``model`` is fine-tunable per the API's own model list.

    ``validate`` (offline) checks the rate table; here the live ``/v1/models`` has the last word
    (``capabilities.fine_tuning``) for completion jobs. Classifier jobs keep the documented rule
    (ministral-3b). When the list cannot be read or marks no model fine-tunable, nothing is refused here.
    """
    new = list(jobs)
    if not new:
        return
    try:
        cards = client.list_base_models()
    except ApiError:
        return
    live = {name for card in cards if card.fine_tunable for name in card.names}
    if not live:
        return
    problems = []
    for job in new:
        model, job_type = job.spec["model"], job.spec.get("job_type") or "completion"
        known = set(CLASSIFIER_MODELS) if job_type == "classifier" else live
        if model in known or base_model_of(model) in known:
            continue
        guess = did_you_mean(model, sorted(known))
        hint = f"did you mean '{guess}'?" if guess else f"fine-tunable here: {', '.join(sorted(known))}"
        problems.append(Diagnostic(codes.UNKNOWN_BASE_MODEL,
                                   f"'{model}' is not a model this API fine-tunes for {job_type} jobs "
                                   f"(GET /v1/models, capabilities.fine_tuning)", job.location, job.address, hint))
    if problems:
        raise ManifestError(problems)
