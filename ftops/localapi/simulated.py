"""The local API's simulated models: deterministic answers that depend on what a model was trained on.

The local API has no weights, so a fine-tuned model answers with the reply of the training example whose
prompt is closest to the request (TF-IDF cosine over words), and a classifier with the labels of the closest
training text. A base model has seen no training data of the user's and answers generically. This keeps an
evaluation on the local API honest in direction: a model trained on the task scores better than its base
model, and one trained on the wrong data scores worse. Nothing here is a language model; ``ftops chat`` and
``ftops eval`` say so in their output whenever the endpoint is the local API.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)
# Below this similarity no training example is "about" the prompt: answer as the base model would.
MIN_SIMILARITY = 0.08
MAX_EXAMPLES = 20_000  # per model: enough for any evaluation, bounded memory for a 1 GB training file


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def base_reply(model: str, prompt: str) -> str:
    """What a base model says about anything: generic, so task-specific checks fail on it."""
    topic = " ".join(words(prompt)[:12])
    return f"As a general assistant ({model}) I can help with many topics. About \"{topic}\": could you tell me more?"


def message_text(content: Any) -> str:
    """The text of a message's content (a string, or a list of chunks with ``text``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return ""


def prompt_of(messages: Iterable[dict[str, Any]]) -> str:
    """What a request asks: the user turns (system prompts are shared boilerplate; they would blur matches)."""
    return "\n".join(message_text(m.get("content")) for m in messages if m.get("role") == "user")


@dataclass
class _Index:
    """A small TF-IDF index: documents as normalised sparse vectors, plus a payload per document."""

    vectors: list[dict[str, float]] = field(default_factory=list)
    payloads: list[Any] = field(default_factory=list)
    df: Counter[str] = field(default_factory=Counter)

    def add(self, text: str, payload: Any) -> None:
        counts = Counter(words(text))
        if not counts:
            return
        self.df.update(counts.keys())
        self.vectors.append(dict(counts))
        self.payloads.append(payload)

    def seal(self) -> None:
        n = len(self.vectors)
        for i, counts in enumerate(self.vectors):
            self.vectors[i] = _normalise({w: c * self._idf(w, n) for w, c in counts.items()})

    def _idf(self, word: str, n: int) -> float:
        return math.log((1 + n) / (1 + self.df.get(word, 0))) + 1.0

    def nearest(self, text: str) -> tuple[Any, float] | None:
        n = len(self.vectors)
        if not n:
            return None
        query = _normalise({w: c * self._idf(w, n) for w, c in Counter(words(text)).items()})
        best, best_score = -1, 0.0
        for i, vec in enumerate(self.vectors):
            score = sum(weight * vec.get(w, 0.0) for w, weight in query.items())
            if score > best_score + 1e-12:  # ties keep the earliest example: deterministic
                best, best_score = i, score
        return (self.payloads[best], best_score) if best >= 0 else None


def _normalise(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}


def _rows(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    seen = 0
    for path in paths:
        with path.open("rb") as fh:
            for raw in fh:
                try:
                    row = json.loads(raw)
                except ValueError:
                    continue  # the job's validation already judged the data; skip what cannot be read
                if isinstance(row, dict):
                    yield row
                    seen += 1
                    if seen >= MAX_EXAMPLES:
                        return


class ChatModel:
    """A fine-tuned chat model: the reply of the closest training prompt."""

    def __init__(self, model: str, training: Iterable[Path]) -> None:
        self.model = model
        self._index = _Index()
        for row in _rows(training):
            messages = row.get("messages")
            if not isinstance(messages, list):
                continue
            last = max((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"),
                       default=None)
            if last is None:
                continue
            reply = message_text(messages[last].get("content"))
            prompt = prompt_of(m for m in messages[:last] if isinstance(m, dict))
            if reply and prompt:
                self._index.add(prompt, reply)
        self._index.seal()

    def reply(self, messages: list[dict[str, Any]]) -> str:
        prompt = prompt_of(messages)
        found = self._index.nearest(prompt)
        if found is None or found[1] < MIN_SIMILARITY:
            return base_reply(self.model, prompt)
        return str(found[0])


class ClassifierModel:
    """A fine-tuned classifier: the labels of the closest training text, as scores per target."""

    def __init__(self, model: str, training: Iterable[Path], targets: list[dict[str, Any]]) -> None:
        self.model = model
        self.targets = {str(t["name"]): [str(label) for label in t.get("labels") or []] for t in targets}
        self._index = _Index()
        for row in _rows(training):
            labels = row.get("labels")
            if not isinstance(labels, dict):
                continue
            text = row.get("text")
            if not isinstance(text, str):
                messages = row.get("messages")
                text = prompt_of(m for m in messages if isinstance(m, dict)) if isinstance(messages, list) else ""
            if text:
                self._index.add(text, labels)
        self._index.seal()

    def scores(self, text: str) -> dict[str, dict[str, float]]:
        found = self._index.nearest(text)
        labels: dict[str, Any] = found[0] if found is not None and found[1] >= MIN_SIMILARITY else {}
        out: dict[str, dict[str, float]] = {}
        for target, names in self.targets.items():
            chosen = labels.get(target)
            picked = {str(c) for c in chosen} if isinstance(chosen, list) else ({str(chosen)} if chosen else set())
            out[target] = _spread(names, picked)
        return out


def _spread(names: list[str], picked: set[str]) -> dict[str, float]:
    """Scores that sum to 1: most of the mass on the picked labels, the rest shared (uniform when unsure)."""
    if not names:
        return {}
    hits = [n for n in names if n in picked]
    if not hits:
        return {n: round(1.0 / len(names), 6) for n in names}
    rest = 0.1 / len(names)
    share = (1.0 - rest * (len(names) - len(hits))) / len(hits)
    return {n: round(share if n in picked else rest, 6) for n in names}
