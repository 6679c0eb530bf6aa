"""Together AI: the first provider beyond Mistral (``provider: together``).

Its fine-tuning API has Mistral's shape (files with ``purpose=fine-tune``, ``/v1/fine-tunes`` create / list /
retrieve / cancel / events / checkpoints) with flat request fields; ``TogetherClient`` translates. What
differs for the reconciler: a created job trains at once (no parked ``state: created``), one training file
and at most one validation file, no classifier jobs, no model rename or archive, and a price per token
processed (``ftops.pricing.together_quote``; the API's own estimate at ``/v1/fine-tunes/estimate-price``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from ftops.pricing import CURRENCY, together_quote
from ftops.providers.base import Capabilities, Quote

if TYPE_CHECKING:
    from ftops.client import MistralClient, RetryPolicy

TOGETHER_HYPERPARAMETERS = frozenset({
    "n_epochs", "n_checkpoints", "n_evals", "batch_size", "learning_rate", "warmup_ratio", "max_grad_norm",
    "weight_decay", "lora", "lora_r", "lora_alpha", "lora_dropout", "training_method", "dpo_beta",
    "train_on_inputs",
})


class TogetherProvider:
    name = "together"
    label = "the Together AI API"
    default_endpoint = "https://api.together.xyz"
    api_key_env = "TOGETHER_API_KEY"
    local_root = "/together"
    capabilities = Capabilities(
        client_chosen_ids=False, parks_jobs=False, methods=("sft", "dpo"), archive=False,
        cost_quote="POST /v1/fine-tunes/estimate-price; total_price on the job",
        find_again="suffix + model in the job list (the API's own creation times), then the full spec "
                   "from a detailed GET; no local clock",
    )
    hyperparameters = TOGETHER_HYPERPARAMETERS
    job_fields_not_supported: Mapping[str, str] = MappingProxyType({
        "job_type": "Together fine-tunes chat/instruct models only: remove job_type: classifier",
        "classifier_targets": "Together has no classifier jobs: remove classifier_targets",
        "invalid_sample_skip_percentage": "Together does not skip invalid rows: fix the data and remove the field",
        "state": "a Together job trains as soon as it is created: remove state: created "
                 "(only started and cancelled exist there)",
    })

    def open_client(self, base_url: str, api_key: str, *, retry: RetryPolicy | None,
                    timeout: float) -> MistralClient:
        from ftops.providers.together_client import TogetherClient

        return TogetherClient(base_url, api_key, retry=retry, timeout=timeout)

    def quote(self, model: str, data_tokens: int, hyperparameters: dict[str, object]) -> Quote:
        epochs, evals = hyperparameters.get("n_epochs", 1), hyperparameters.get("n_evals", 0)
        q = together_quote(model, data_tokens=data_tokens, n_epochs=epochs if isinstance(epochs, int) else 1,
                           n_evals=evals if isinstance(evals, int) else 0,
                           method=str(hyperparameters.get("training_method", "sft")),
                           lora=hyperparameters.get("lora", True) is not False)
        return Quote(cost=q.cost, currency=CURRENCY, train_tokens=q.train_tokens, source="estimate")
