"""The provider seam: what the reconciler core needs to know about one hosted fine-tuning API.

The core (desired state, plan, apply with intents and adoption, state, render) is the same for every
provider. A provider says which manifest fields and ranges it takes, what it can do (``Capabilities``),
how to open a client that speaks its API behind the one client surface apply uses
(``ftops.apply.protocols.ApiClient``), and how a job that ran on it is priced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the client (httpx) loads only when a session opens one
    from ftops.client import MistralClient, RetryPolicy


@dataclass(frozen=True)
class Capabilities:
    client_chosen_ids: bool  # the client names the job (creates idempotent by construction)
    parks_jobs: bool  # create validates and waits; a separate start spends (``state: created`` works)
    methods: tuple[str, ...]  # training methods, e.g. ("sft", "dpo")
    archive: bool  # fine-tuned models can be renamed / archived / unarchived
    cost_quote: str  # where the API's own price comes from
    find_again: str  # how an interrupted create is found again (documentation, shown by `ftops providers`)


@dataclass(frozen=True)
class Quote:
    cost: float
    currency: str
    train_tokens: int
    source: str  # "estimate" (the rate table)


class Provider(Protocol):
    name: str
    label: str  # "the Mistral API", for banners
    default_endpoint: str  # host root of the real service
    api_key_env: str  # the variable holding the key for the real service
    local_root: str  # where `ftops serve` serves this provider's API ("" or "/together")
    capabilities: Capabilities
    hyperparameters: frozenset[str]  # manifest hyperparameter names this provider takes
    job_fields_not_supported: Mapping[str, str]  # JobSpec field → hint, for fields set away from their default

    def open_client(self, base_url: str, api_key: str, *, retry: RetryPolicy | None,
                    timeout: float) -> MistralClient: ...

    def quote(self, model: str, data_tokens: int, hyperparameters: dict[str, object]) -> Quote: ...
