"""The smoke test on fixed answers: an answer passes, silence or a call error fails with the reason, ``expect``
must match, and a classifier is asked for label scores instead of a chat."""

from __future__ import annotations

from typing import Any

from ftops.client.inference_models import ChatCompletion, Classification
from ftops.errors import ApiError
from ftops.evals.smoke import DEFAULT_SMOKE_PROMPT, SmokeConfig, run_smoke
from ftops.manifest import schema


class Caller:
    """Answers every chat with ``text`` (or raises ``error``) and records what it was asked."""

    def __init__(self, text: str = "Yes, I am working.", error: ApiError | None = None,
                 scores: dict[str, dict[str, float]] | None = None) -> None:
        self.text, self.error, self.scores = text, error, scores
        self.calls: list[tuple[str, str, Any]] = []

    def chat(self, model: str, messages: list[dict[str, Any]], *, max_tokens: int | None = None,
             temperature: float | None = None) -> ChatCompletion:
        self.calls.append(("chat", model, messages))
        if self.error is not None:
            raise self.error
        return ChatCompletion.model_validate({"id": "c", "model": model, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": self.text}, "finish_reason": "stop"}]})

    def classify(self, model: str, texts: list[str]) -> Classification:
        self.calls.append(("classify", model, texts))
        results = [] if self.scores is None else [{t: {"scores": s} for t, s in self.scores.items()}]
        return Classification.model_validate({"id": "k", "model": model, "results": results})

    def classify_chat(self, model: str, conversations: list[list[dict[str, Any]]]) -> Classification:
        raise AssertionError("the smoke test classifies text")


def test_an_answer_passes_and_is_kept_short() -> None:
    caller = Caller("word " * 100)
    result = run_smoke(caller, "ft:m", SmokeConfig())
    assert result.passed and result.reason is None and len(result.answer) <= 120
    assert caller.calls == [("chat", "ft:m", [{"role": "user", "content": DEFAULT_SMOKE_PROMPT}])]


def test_an_empty_answer_fails_with_the_reason() -> None:
    result = run_smoke(Caller("   "), "ft:m", SmokeConfig())
    assert not result.passed and result.reason == "the smoke test got an empty answer"


def test_a_failed_call_fails_with_the_api_message() -> None:
    result = run_smoke(Caller(error=ApiError("model not ready (503)")), "ft:m", SmokeConfig())
    assert not result.passed and result.reason is not None and "model not ready (503)" in result.reason


def test_expect_must_match_the_answer() -> None:
    config = SmokeConfig(prompt="What is 2+2?", expect=r"\b4\b")
    assert run_smoke(Caller("It is 4."), "ft:m", config).passed
    failed = run_smoke(Caller("It is five."), "ft:m", config)
    assert not failed.passed and failed.reason == 'the answer "It is five." does not match expect /\\b4\\b/'


def test_a_classifier_is_asked_for_labels() -> None:
    caller = Caller(scores={"intent": {"billing": 0.8, "other": 0.2}})
    result = run_smoke(caller, "ft:c", SmokeConfig(classifier=True, expect="intent=billing"))
    assert result.passed and result.answer == "intent=billing"
    assert caller.calls == [("classify", "ft:c", [DEFAULT_SMOKE_PROMPT])]
    silent = run_smoke(Caller(scores=None), "ft:c", SmokeConfig(classifier=True))
    assert not silent.passed and silent.reason == "the smoke test got no label scores"


def test_the_digest_names_the_test_and_the_manifest_default_is_the_same_prompt() -> None:
    assert SmokeConfig().digest == SmokeConfig(prompt=DEFAULT_SMOKE_PROMPT).digest
    assert SmokeConfig().digest != SmokeConfig(expect="yes").digest
    assert schema.DEFAULT_SMOKE_PROMPT == DEFAULT_SMOKE_PROMPT
