"""The gate's decisions on fixed answers: thresholds, A/B against the current model, smoke test, valid loss."""

from __future__ import annotations

from typing import Any

from ftops.client.inference_models import ChatCompletion, Classification
from ftops.evals import EvalCase, ScorerSpec, make_scorer
from ftops.evals.gate import GateSpec, evaluate_gate

CASES = [EvalCase(line=i + 1, messages=({"role": "user", "content": f"q{i}"},), expected=f"a{i}") for i in range(4)]


class Answers:
    """A model caller answering from a table: model → how many of the 4 cases it gets right."""

    def __init__(self, right: dict[str, int], empty: frozenset[str] = frozenset()) -> None:
        self.right, self.empty = right, empty

    def chat(self, model: str, messages: list[dict[str, Any]], *, max_tokens: int | None = None,
             temperature: float | None = None) -> ChatCompletion:
        question = str(messages[-1]["content"])
        index = int(question[1:]) if question[1:].isdigit() else -1
        text = "" if model in self.empty else (f"a{index}" if 0 <= index < self.right[model] else "no idea")
        return ChatCompletion.model_validate({"id": "x", "model": model, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})

    def classify(self, model: str, texts: list[str]) -> Classification:
        raise AssertionError("not a classifier")

    def classify_chat(self, model: str, conversations: list[list[dict[str, Any]]]) -> Classification:
        raise AssertionError("not a classifier")


def _gate(caller: Answers, *, current: str | None = "old", valid_loss: float | None = None, **kw: Any) -> Any:
    spec = GateSpec(evaluation="e", scorer="exact", **kw)
    return evaluate_gate(caller, spec, CASES, make_scorer(ScorerSpec("exact")), candidate="new", current=current,
                         valid_loss=valid_loss)


def test_a_better_candidate_passes() -> None:
    result = _gate(Answers({"new": 4, "old": 2}), min_score=0.75)
    assert result.passed and result.candidate_score == 1.0 and result.current_score == 0.5 and not result.reasons


def test_below_min_score_fails_with_the_reason() -> None:
    result = _gate(Answers({"new": 2, "old": 1}), min_score=0.75)
    assert not result.passed and result.reasons == ("score 0.500 is below min_score 0.75 on e",)


def test_worse_than_the_current_model_fails_even_above_the_threshold() -> None:
    result = _gate(Answers({"new": 3, "old": 4}), min_score=0.5)
    assert not result.passed and "worse than the current model's 1.000 (old)" in result.reasons[0]
    assert _gate(Answers({"new": 3, "old": 4}), min_score=0.5, not_worse=False).passed


def test_equal_to_the_current_model_is_not_worse() -> None:
    assert _gate(Answers({"new": 3, "old": 3})).passed


def test_first_model_has_nothing_to_compare_with() -> None:
    result = _gate(Answers({"new": 1}), current=None)
    assert result.passed and result.current_score is None


def test_an_empty_smoke_answer_fails_before_scoring() -> None:
    result = _gate(Answers({"new": 4, "old": 0}, empty=frozenset({"new"})))
    assert not result.passed and result.reasons == ("the smoke test got an empty answer",)
    assert result.candidate_score is None


def test_valid_loss_threshold() -> None:
    assert _gate(Answers({"new": 4, "old": 0}), max_valid_loss=1.0, valid_loss=0.9).passed
    high = _gate(Answers({"new": 4, "old": 0}), max_valid_loss=1.0, valid_loss=1.2)
    assert not high.passed and "valid_loss 1.2 is above max_valid_loss 1" in high.reasons[0]
    missing = _gate(Answers({"new": 4, "old": 0}), max_valid_loss=1.0, valid_loss=None)
    assert not missing.passed and "no validation loss" in missing.reasons[0]
