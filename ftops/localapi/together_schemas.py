"""Request bodies of the local Together API, as the SDK's ``FinetuneRequest`` sends them (flat fields).

Ranges here are the ones independent of the model; the per-model limits (epochs, batch size, LoRA rank,
full training) are checked against ``GET /v1/fine-tunes/models/limits`` in ``together_jobs``. Secrets
(``wandb_key``, ``hf_api_token``) are accepted and never stored or echoed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TogetherJobIn(_In):
    training_file: str = Field(min_length=1)
    validation_file: str | None = None
    model: str = Field(min_length=1)
    n_epochs: int = Field(1, ge=1)
    n_checkpoints: int = Field(1, ge=1)
    n_evals: int = Field(0, ge=0)
    batch_size: int | Literal["max"] = "max"
    learning_rate: float = Field(1e-5, gt=0)
    lr_scheduler: dict[str, Any] | None = None
    warmup_ratio: float = Field(0.0, ge=0, le=1)
    max_grad_norm: float = Field(1.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    max_seq_length: int | None = Field(None, ge=1)
    packing: bool = True
    suffix: str | None = Field(None, max_length=40)
    wandb_key: str | None = Field(None, repr=False)
    wandb_base_url: str | None = None
    wandb_project_name: str | None = None
    wandb_name: str | None = None
    wandb_entity: str | None = None
    random_seed: int | None = None
    train_on_inputs: bool | Literal["auto"] | None = None
    training_type: dict[str, Any] | None = None
    training_method: dict[str, Any] | None = None
    from_checkpoint: str | None = None
    hf_api_token: str | None = Field(None, repr=False)

    def is_lora(self) -> bool:
        return (self.training_type or {"type": "Lora"}).get("type") != "Full"

    def lora_r(self) -> int:
        return int((self.training_type or {}).get("lora_r") or 64)

    def method(self) -> str:
        return str((self.training_method or {}).get("method", "sft"))

    def training_type_echo(self) -> dict[str, Any]:
        if not self.is_lora():
            return {"type": "Full"}
        given = self.training_type or {}
        rank = self.lora_r()
        return {"type": "Lora", "lora_r": rank, "lora_alpha": int(given.get("lora_alpha") or 2 * rank),
                "lora_dropout": float(given.get("lora_dropout") or 0.0),
                "lora_trainable_modules": str(given.get("lora_trainable_modules") or "all-linear")}


class EstimateIn(_In):
    training_file: str = Field(min_length=1)
    validation_file: str | None = None
    model: str = ""
    n_epochs: int = Field(1, ge=1)
    n_evals: int = Field(0, ge=0)
    training_type: dict[str, Any] | None = None
    training_method: dict[str, Any] | None = None
    from_checkpoint: str | None = None
