"""The one rate table: training price, tokens per step and throughput per fine-tunable base model.

Both the local API (to fill job ``metadata``) and ``ftops plan`` (to estimate jobs that do not exist yet)
read it, so a plan's estimate and the local API's quote agree. Where the real API has created a job, the
plan shows the API's own ``metadata.cost`` instead.

Evidence (``shared/reference/dataset-rules.md`` §2.4, ``mistral-api.md`` §5 and §7): open-mistral-7b and
pixtral-12b were billed $2.00 per million training tokens with 131,072 / 129,528 tokens per step; the
ministral-3b classifier 0.50 per million with 65,536 tokens per step; every job costs at least $4. The
other rates are not published in any source we could read: they are marked ``evidence="assumed"`` and
scaled by model size. Change them here and nowhere else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MINIMUM_JOB_COST_USD = 4.0
MODEL_STORAGE_USD_PER_MONTH = 2.0
CURRENCY = "USD"


@dataclass(frozen=True)
class Rate:
    model: str
    usd_per_million_train_tokens: float
    train_tokens_per_step: int
    # Training throughput in tokens/second for the whole job, for the expected-duration estimate.
    tokens_per_second: float
    evidence: str  # "observed" (from real job metadata) or "assumed"


_RATES: dict[str, Rate] = {
    r.model: r
    for r in (
        Rate("open-mistral-7b", 2.00, 131_072, 45_760.0, "observed"),
        Rate("pixtral-12b-latest", 2.00, 129_528, 26_000.0, "observed"),
        Rate("ministral-3b-latest", 0.50, 65_536, 60_000.0, "observed"),
        Rate("ministral-8b-latest", 1.00, 131_072, 45_000.0, "assumed"),
        Rate("open-mistral-nemo", 1.00, 131_072, 26_700.0, "assumed"),
        Rate("mistral-small-latest", 3.00, 131_072, 20_000.0, "assumed"),
        Rate("codestral-latest", 3.00, 131_072, 20_000.0, "assumed"),
        Rate("mistral-medium-latest", 6.00, 131_072, 8_000.0, "assumed"),
        Rate("mistral-large-latest", 9.00, 131_072, 4_536.0, "assumed"),
    )
}

# The models the docs list as fine-tunable; classifier jobs only on ministral-3b-latest.
FINE_TUNABLE_MODELS: tuple[str, ...] = tuple(_RATES)
CLASSIFIER_MODELS: tuple[str, ...] = ("ministral-3b-latest",)

_FALLBACK = Rate("unknown", 3.00, 131_072, 20_000.0, "assumed")
# A dated release of a family: ``open-mistral-7b-2407``, ``mistral-small-2409``, ``codestral-2405`` (the date
# is YYMM). Anything else (``open-mistral-7bb``) is not that model.
_DATED = re.compile(r"^(?P<family>.+)-(?P<date>\d{4})$")


def base_model_of(model: str) -> str | None:
    """The fine-tunable base model ``model`` names (itself, or the family of a dated alias), else None."""
    if model in _RATES:
        return model
    dated = _DATED.match(model)
    if dated:
        family = dated["family"]
        for name in _RATES:
            if family in (name, name.removesuffix("-latest")):
                return name
    return None


def fine_tunable(job_type: str = "completion") -> tuple[str, ...]:
    """The base models the rate table knows as fine-tunable for ``job_type`` (the offline list)."""
    return CLASSIFIER_MODELS if job_type == "classifier" else FINE_TUNABLE_MODELS


def rate_for(model: str) -> Rate:
    """The rate for a base model; dated aliases (``open-mistral-7b-2407``) map to their family.

    An unknown model gets the ``"unknown"`` fallback rate: callers that quote a price refuse it first
    (``ftops.plan.cost``), so a typo is never priced as a neighbouring model.
    """
    base = base_model_of(model)
    return _RATES[base] if base is not None else _FALLBACK


@dataclass(frozen=True)
class Estimate:
    data_tokens: int
    train_tokens: int
    training_steps: int
    epochs: float
    cost: float
    currency: str
    expected_duration_seconds: int
    train_tokens_per_step: int
    rate_evidence: str


def estimate(
    model: str,
    data_tokens: int,
    *,
    training_steps: int | None = None,
    epochs: float | None = None,
) -> Estimate:
    """Tokens, epochs, cost and duration as the API derives them (``epochs = train_tokens / data_tokens``).

    With neither steps nor epochs, one epoch is assumed (rounded up to whole steps).
    """
    rate = rate_for(model)
    per_step = rate.train_tokens_per_step
    if training_steps is None:
        wanted = (epochs if epochs is not None else 1.0) * max(data_tokens, 1)
        training_steps = max(1, math.ceil(wanted / per_step))
    train_tokens = training_steps * per_step
    cost = max(MINIMUM_JOB_COST_USD, train_tokens / 1e6 * rate.usd_per_million_train_tokens)
    return Estimate(
        data_tokens=data_tokens,
        train_tokens=train_tokens,
        training_steps=training_steps,
        epochs=train_tokens / data_tokens if data_tokens else 0.0,
        cost=round(cost, 4),
        currency=CURRENCY,
        expected_duration_seconds=int(train_tokens / rate.tokens_per_second) + 300,
        train_tokens_per_step=per_step,
        rate_evidence=rate.evidence,
    )


# -- Together AI -----------------------------------------------------------------------------------------
# Source: the "Fine-tuning" table of together.ai/pricing: the price per million tokens processed (training
# tokens x epochs + validation tokens x evaluations; Together's docs confirm this formula and that there is no
# minimum charge), by model size and training type. These rates were written down without access to the live
# page and are NOT verified: check them there, and edit these rows, and nowhere else, when Together changes
# them. Once a job exists, the API's own price (recorded in the lock) is what ftops shows.
TOGETHER_SOURCE = "together.ai/pricing (fine-tuning, per 1M tokens processed)"


@dataclass(frozen=True)
class TogetherRate:
    size_class: str
    sft_lora: float
    sft_full: float
    dpo_lora: float
    dpo_full: float

    def usd_per_million(self, *, method: str, lora: bool) -> float:
        if method == "dpo":
            return self.dpo_lora if lora else self.dpo_full
        return self.sft_lora if lora else self.sft_full


_TOGETHER_CLASSES = (
    TogetherRate("up to 16B", 0.48, 0.54, 1.20, 1.35),
    TogetherRate("17B-69B", 1.50, 1.65, 3.75, 4.12),
    TogetherRate("70B-100B", 2.90, 3.20, 7.25, 8.00),
)
# Fine-tunable base models and their size in billions of parameters (the table prices by size).
TOGETHER_MODELS: dict[str, float] = {
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference": 8.0,
    "meta-llama/Meta-Llama-3.1-70B-Instruct-Reference": 70.0,
    "meta-llama/Llama-3.2-3B-Instruct": 3.0,
    "Qwen/Qwen2.5-7B-Instruct": 7.0,
    "Qwen/Qwen2.5-72B-Instruct": 72.0,
    "mistralai/Mistral-7B-Instruct-v0.2": 7.0,
    "google/gemma-3-12b-it": 12.0,
}
# Tokens per second of a whole job, for the local API's simulated duration only (not a price input).
TOGETHER_TOKENS_PER_SECOND = 40_000.0


def together_rate(model: str) -> TogetherRate:
    size = TOGETHER_MODELS.get(model, 16.0)
    if size <= 16:
        return _TOGETHER_CLASSES[0]
    return _TOGETHER_CLASSES[1] if size < 70 else _TOGETHER_CLASSES[2]


@dataclass(frozen=True)
class TogetherQuote:
    train_tokens: int
    eval_tokens: int
    cost: float
    currency: str
    size_class: str


def together_quote(model: str, *, data_tokens: int, n_epochs: int, validation_tokens: int = 0, n_evals: int = 0,
                   method: str = "sft", lora: bool = True) -> TogetherQuote:
    """Together's price: tokens processed (training x epochs + validation x evaluations) times the rate."""
    rate = together_rate(model)
    train = max(data_tokens, 0) * max(n_epochs, 1)
    evals = max(validation_tokens, 0) * max(n_evals, 0)
    cost = (train + evals) / 1e6 * rate.usd_per_million(method=method, lora=lora)
    return TogetherQuote(train_tokens=train, eval_tokens=evals, cost=round(cost, 4), currency=CURRENCY,
                         size_class=rate.size_class)
