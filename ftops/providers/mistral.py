"""Mistral: the default provider (the API ftops was built on; ``ftops.client.MistralClient`` speaks it)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from ftops.pricing import estimate
from ftops.providers.base import Capabilities, Quote

if TYPE_CHECKING:
    from ftops.client import MistralClient, RetryPolicy

MISTRAL_HYPERPARAMETERS = frozenset({"training_steps", "learning_rate", "weight_decay", "warmup_fraction", "epochs",
                                     "seq_len", "fim_ratio"})


class MistralProvider:
    name = "mistral"
    label = "the Mistral API"
    default_endpoint = "https://api.mistral.ai"
    api_key_env = "MISTRAL_API_KEY"
    local_root = ""
    capabilities = Capabilities(
        client_chosen_ids=False, parks_jobs=True, methods=("sft",), archive=True,
        cost_quote="job metadata after validation (cost, train_tokens), and dry_run creates",
        find_again="suffix + model, then the full spec from a detailed GET (files by content); no clock",
    )
    hyperparameters = MISTRAL_HYPERPARAMETERS
    job_fields_not_supported: Mapping[str, str] = MappingProxyType({})

    def open_client(self, base_url: str, api_key: str, *, retry: RetryPolicy | None,
                    timeout: float) -> MistralClient:
        from ftops.client import MistralClient

        return MistralClient(base_url, api_key, retry=retry, timeout=timeout)

    def quote(self, model: str, data_tokens: int, hyperparameters: dict[str, object]) -> Quote:
        steps, epochs = hyperparameters.get("training_steps"), hyperparameters.get("epochs")
        e = estimate(model, data_tokens, training_steps=steps if isinstance(steps, int) else None,
                     epochs=float(epochs) if isinstance(epochs, int | float) else None)
        return Quote(cost=e.cost, currency=e.currency, train_tokens=e.train_tokens, source="estimate")
