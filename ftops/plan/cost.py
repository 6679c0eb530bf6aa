"""What a job costs: the API's own quote when the job exists, else ``ftops.pricing.estimate`` from token counts.

The API fills a job's ``metadata`` (cost, tokens, duration) once it has validated the data; before that (or
for a job that does not exist yet) the plan estimates from the local token count (exact with the model's
tokenizer, or a byte-based guess — ``Cost.tokens_exact`` says which) and the one rate table.
"""

from __future__ import annotations

from ftops.client.models import RemoteJob
from ftops.desired import DesiredJob
from ftops.plan.model import Cost
from ftops.pricing import CURRENCY, estimate


def job_cost(job: DesiredJob, remote: RemoteJob | None = None) -> Cost:
    quoted = _quote(remote) if remote is not None else None
    return quoted if quoted is not None else estimate_cost(job)


def estimate_cost(job: DesiredJob) -> Cost:
    hp = job.spec["hyperparameters"]
    if job.spec.get("provider", "mistral") != "mistral":
        return _provider_estimate(job, str(job.spec["provider"]))
    e = estimate(
        job.spec["model"], job.data_tokens or 0, training_steps=hp.get("training_steps"), epochs=hp.get("epochs")
    )
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
    )


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
    )
