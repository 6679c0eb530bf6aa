"""Statistics of a training file (``ftops data stats``): shape of the conversations, tokens, advice.

One streaming pass over the valid rows (the same ``iter_rows`` the validator uses). Per-row and per-message
figures are kept in compact ``array`` buffers (4 bytes each) for exact percentiles; the advice uses the
API's documented limits (``dataset-rules.md`` §2.2) and the rate table's tokens per step for epochs.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftops.datasets.report import DataKind
from ftops.datasets.rules_instruct import messages_of
from ftops.datasets.tokens import get_counter
from ftops.datasets.validate import iter_rows, open_dataset
from ftops.pricing import rate_for

TRAINING_FILE_LIMIT = 512 * 1024 * 1024
VALIDATION_FILE_LIMIT = 1024 * 1024
MIN_EXAMPLES = 10  # mistral-finetune's (unused) verify_size minimum
FEW_EXAMPLES = 100


def distribution(values: array[int]) -> dict[str, float]:
    """min / mean / p50 / p95 / max of a list of counts (zeros when empty)."""
    if not values:
        return {"min": 0, "mean": 0.0, "p50": 0, "p95": 0, "max": 0}
    ordered = sorted(values)
    n = len(ordered)

    def pct(p: float) -> int:
        return ordered[min(n - 1, max(0, math.ceil(p * n) - 1))]

    return {"min": ordered[0], "mean": round(sum(ordered) / n, 2), "p50": pct(0.5), "p95": pct(0.95),
            "max": ordered[-1]}


@dataclass
class DatasetStats:
    path: str
    kind: DataKind | None = None
    bytes: int = 0
    examples: int = 0
    invalid_lines: int = 0
    roles: Counter[str] = field(default_factory=Counter)
    messages_per_example: dict[str, float] = field(default_factory=dict)
    content_chars: dict[str, float] = field(default_factory=dict)
    tokens_per_example: dict[str, float] = field(default_factory=dict)
    data_tokens: int = 0
    trained_tokens: int = 0
    tokens_exact: bool = False
    tokenizer: str = ""
    tokenizer_note: str | None = None
    model: str | None = None
    training_steps: int | None = None
    epochs: float | None = None
    recommendations: list[str] = field(default_factory=list)

    @property
    def trained_share(self) -> float:
        return self.trained_tokens / self.data_tokens if self.data_tokens else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "bytes": self.bytes, "examples": self.examples,
            "invalid_lines": self.invalid_lines, "roles": dict(sorted(self.roles.items())),
            "messages_per_example": self.messages_per_example, "content_chars": self.content_chars,
            "tokens_per_example": self.tokens_per_example,
            "tokens": {"data_tokens": self.data_tokens, "trained_tokens": self.trained_tokens,
                       "trained_share": round(self.trained_share, 4), "exact": self.tokens_exact,
                       "tokenizer": self.tokenizer, "note": self.tokenizer_note},
            "model": self.model, "training_steps": self.training_steps,
            "epochs": None if self.epochs is None else round(self.epochs, 4),
            "recommendations": self.recommendations,
        }


def _content_len(msg: dict[str, Any]) -> int:
    content = msg.get("content", msg.get("text"))
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(c.get("text", "")) for c in content if isinstance(c, dict) and c.get("type") == "text")
    return 0


def compute_stats(path: str | Path, *, model: str | None = None, training_steps: int | None = None,
                  kind: DataKind | None = None, validation: bool = False) -> DatasetStats:
    counter = get_counter(model)
    st = DatasetStats(path=str(path), model=model, training_steps=training_steps,
                      tokens_exact=counter.choice.exact, tokenizer=counter.choice.name,
                      tokenizer_note=counter.choice.note)
    per_example, chars, tokens = array("I"), array("I"), array("I")
    with open_dataset(path) as stream:
        for row in iter_rows(stream, kind=kind):
            st.bytes += row.size
            if not row.valid or row.kind is None:
                st.invalid_lines += 1
                continue
            st.kind = st.kind or row.kind
            try:
                total, trained = counter.count(row.value, row.kind, row.has_image)
            except Exception:  # the validator reports these as E120; here they are just not counted
                st.invalid_lines += 1
                continue
            st.examples += 1
            st.data_tokens += total
            st.trained_tokens += trained
            tokens.append(min(total, 2**32 - 1))
            msgs = messages_of(row.value) if row.kind == "instruct" else row.value.get("messages")
            if isinstance(msgs, list):
                per_example.append(len(msgs))
                for m in msgs:
                    st.roles[str(m.get("role"))] += 1
                    chars.append(min(_content_len(m), 2**32 - 1))
            else:
                text = row.value.get("text", row.value.get("content"))
                chars.append(len(text) if isinstance(text, str) else 0)
    st.messages_per_example = distribution(per_example)
    st.content_chars = distribution(chars)
    st.tokens_per_example = distribution(tokens)
    _advise(st, validation)
    return st


def _advise(st: DatasetStats, validation: bool) -> None:
    rec = st.recommendations
    if st.invalid_lines:
        rec.append(f"{st.invalid_lines} invalid line(s): run `ftops data validate {st.path}` "
                   "(and `ftops data fix` for the common ones)")
    if st.examples < MIN_EXAMPLES:
        rec.append(f"only {st.examples} example(s): fine-tuning needs at least {MIN_EXAMPLES}, "
                   f"and usually hundreds")
    elif st.examples < FEW_EXAMPLES:
        rec.append(f"{st.examples} examples is few; a few hundred or more usually train better")
    if validation and st.bytes > VALIDATION_FILE_LIMIT:
        rec.append(f"{st.bytes / 1e6:.1f} MB is over the 1 MB limit for validation files: "
                   "`ftops data split` caps the eval set")
    if st.bytes > TRAINING_FILE_LIMIT:
        rec.append(f"{st.bytes / 2**20:.0f} MiB is over the 512 MB limit per training file: split it "
                   "into several training files")
    if st.data_tokens and st.trained_share < 0.05 and st.kind == "instruct":
        rec.append(f"only {st.trained_share:.1%} of tokens carry loss (assistant turns); check weights, "
                   "or whether the prompts are mostly context")
    if st.training_steps is not None and st.data_tokens:
        per_step = rate_for(st.model or "open-mistral-7b").train_tokens_per_step
        st.epochs = st.training_steps * per_step / st.data_tokens
        steps = f"{st.training_steps:,} step{'s' if st.training_steps != 1 else ''}"
        if st.epochs < 1:
            rec.append(f"{steps} cover {st.epochs:.2f} epochs: the model will not see "
                       "every example; raise training_steps")
        elif st.epochs > 10:
            # Steps are whole and one step holds per_step tokens: fewer steps only help while there are some
            # to remove. Below one step's worth of data, only more data lowers the epochs.
            for_three = max(1, round(3 * st.data_tokens / per_step))
            are = "is" if st.training_steps == 1 else "are"
            if 3 * st.data_tokens >= per_step:
                rec.append(f"{steps} {are} {st.epochs:.1f} epochs: risk of overfitting; "
                           f"~{for_three:,} step{'s give' if for_three != 1 else ' gives'} about 3 epochs")
            else:
                rec.append(f"{steps} {are} {st.epochs:.1f} epochs: risk of overfitting; one step already trains "
                           f"{per_step:,} tokens ({per_step / st.data_tokens:.1f} epochs of this data), so add data: "
                           f"about {per_step // 3:,} tokens make one step 3 epochs")
