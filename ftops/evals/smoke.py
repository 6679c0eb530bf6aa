"""The smoke test: a short call every new fine-tuned model must answer before apply names or promotes it.

A chat model gets one user message and must answer with non-empty content; a classifier model gets the same
text on ``/v1/classifications`` and must return scores. With ``expect`` the answer (for a classifier:
``target=label`` of the top labels) must also match that regular expression. The smoke test reads nothing
and writes nothing on the API, so apply needs no intent for it: it records the outcome in the lock and a
crash before that only means the (cheap) call is made again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ftops.errors import ApiError
from ftops.evals.runner import ModelCaller

DEFAULT_SMOKE_PROMPT = "Hello! Please answer briefly: are you working?"
# Long enough to say something, short enough to cost nothing worth counting.
SMOKE_MAX_TOKENS = 64
# The answer kept in the lock and the output: enough to recognise it, never a whole essay.
ANSWER_SHOWN = 120


class SmokeConfig(BaseModel):
    """What a plan carries for one smoke test (a saved plan runs exactly the test it showed)."""

    model_config = ConfigDict(frozen=True)

    prompt: str = DEFAULT_SMOKE_PROMPT
    expect: str | None = None  # a regular expression the answer must contain (re.search)
    classifier: bool = False  # call /v1/classifications instead of /v1/chat/completions

    @property
    def digest(self) -> str:
        """Names "this prompt, this expectation": a recorded pass counts only for the same test."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        """One line for plans."""
        call = "a classification of" if self.classifier else "a chat:"
        shown = self.prompt if len(self.prompt) <= 60 else self.prompt[:57] + "..."
        expect = f", the answer must match /{self.expect}/" if self.expect else ", it must answer"
        return f"smoke test: {call} {json.dumps(shown, ensure_ascii=False)}{expect}"


@dataclass(frozen=True)
class SmokeResult:
    model: str
    passed: bool
    answer: str  # what the model said (shortened); "" when the call failed
    reason: str | None = None  # why it failed

    def record(self, digest: str, at: int) -> dict[str, object]:
        """The lock's ``smoke`` attribute."""
        return {"model": self.model, "digest": digest, "passed": self.passed, "answer": self.answer,
                "reason": self.reason, "at": at}


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ANSWER_SHOWN else text[:ANSWER_SHOWN - 1] + "…"


def _answer(caller: ModelCaller, model: str, config: SmokeConfig) -> str:
    if config.classifier:
        result = caller.classify(model, [config.prompt])
        first = result.results[0] if result.results else {}
        return ", ".join(f"{target}={scores.top()}" for target, scores in sorted(first.items())
                         if scores.top() is not None)
    reply = caller.chat(model, [{"role": "user", "content": config.prompt}], max_tokens=SMOKE_MAX_TOKENS,
                        temperature=0.0)
    return reply.text


def run_smoke(caller: ModelCaller, model: str, config: SmokeConfig) -> SmokeResult:
    """Ask ``model`` the smoke prompt once; it passes when it answers (and the answer matches ``expect``)."""
    try:
        answer = _answer(caller, model, config)
    except ApiError as exc:
        return SmokeResult(model, False, "", f"the smoke test call failed: {exc.message}")
    if not answer.strip():
        what = "no label scores" if config.classifier else "an empty answer"
        return SmokeResult(model, False, "", f"the smoke test got {what}")
    if config.expect is not None and re.search(config.expect, answer) is None:
        return SmokeResult(model, False, _shorten(answer),
                           f"the answer {json.dumps(_shorten(answer), ensure_ascii=False)} does not match "
                           f"expect /{config.expect}/")
    return SmokeResult(model, True, _shorten(answer))
