"""What a plan carries about an Evaluation used as a gate: the set (by path and content hash) and its thresholds.

A typed value between the manifest (``ftops.desired`` builds it), the plan (a GATE change holds it, so a saved
plan runs exactly the gate it showed) and apply (which turns it into a :class:`GateSpec` and a scorer). Its
``digest`` names "this set with these thresholds": a failed gate blocks promotion until the digest or the
candidate model changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from ftops.evals.gate import GateSpec
from ftops.evals.scorers import ScorerSpec


class GateConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    evaluation: str  # the Evaluation's metadata.name
    path: str  # the set, relative to the project root (POSIX)
    sha256: str  # the set's content: editing the set is a new gate
    scorer: str = "exact"
    pattern: str | None = None
    value: str | None = None
    schema_: dict[str, Any] | None = None
    min_score: float = 0.0
    max_valid_loss: float | None = None
    not_worse: bool = True
    smoke_prompt: str | None = None
    max_tokens: int = 256
    parallelism: int = 8

    @property
    def digest(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def gate_spec(self) -> GateSpec:
        return GateSpec(evaluation=self.evaluation, scorer=self.scorer, min_score=self.min_score,
                        max_valid_loss=self.max_valid_loss, not_worse=self.not_worse,
                        smoke_prompt=self.smoke_prompt, parallelism=self.parallelism, max_tokens=self.max_tokens)

    def scorer_spec(self) -> ScorerSpec:
        return ScorerSpec(kind=self.scorer, pattern=self.pattern, value=self.value, schema=self.schema_)

    def thresholds(self) -> str:
        """One line for plans: what the candidate must reach."""
        parts = [f"{self.scorer} ≥ {self.min_score:g}"]
        if self.max_valid_loss is not None:
            parts.append(f"valid_loss ≤ {self.max_valid_loss:g}")
        if self.not_worse:
            parts.append("not worse than the current model")
        if self.smoke_prompt:
            parts.append("smoke test")
        return ", ".join(parts)
