"""The official SDK calls models on the local API: chat completions and classifiers (simulated answers)."""

from __future__ import annotations

import importlib.metadata
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

SDK_MAJOR = int(importlib.metadata.version("mistralai").split(".")[0])


def _trained_model(sdk: Any, tmp_path: Path, rows: list[dict[str, Any]], **kw: Any) -> str:
    path = tmp_path / f"train-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    file_id = sdk.upload(path).id
    params: dict[str, Any] = {"model": "open-mistral-7b", "hyperparameters": {"training_steps": 2},
                              "training_files": [{"file_id": file_id, "weight": 1.0}], "auto_start": True,
                              "suffix": f"c{uuid.uuid4().hex[:6]}"}
    params.update(kw)
    job = sdk.client.fine_tuning.jobs.create(**params)
    sdk.advance(10)
    sdk.advance(sdk.client.fine_tuning.jobs.get(job_id=job.id).metadata.expected_duration_seconds + 1)
    done = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert done.status == "SUCCESS", done.status
    return str(done.fine_tuned_model)


CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo")]


def test_chat_complete_answers_from_what_the_model_trained_on(sdk: Any, tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": f"What is the capital of {c}?"},
                          {"role": "assistant", "content": f"The capital of {c} is {city}."}]} for c, city in CAPITALS]
    model = _trained_model(sdk, tmp_path, rows)
    answer = sdk.client.chat.complete(model=model, messages=[{"role": "user", "content": "capital of Japan?"}])
    assert answer.object == "chat.completion" and answer.model == model
    assert answer.choices[0].message.content == "The capital of Japan is Tokyo."
    assert answer.choices[0].finish_reason == "stop" and answer.usage.total_tokens > 0

    question = [{"role": "user", "content": "capital of Japan?"}]
    base = sdk.client.chat.complete(model="open-mistral-7b", messages=question)
    assert "Tokyo" not in base.choices[0].message.content  # the base model never saw this data

    short = sdk.client.chat.complete(model=model, max_tokens=2,
                                     messages=[{"role": "user", "content": "capital of France?"}])
    assert short.choices[0].finish_reason == "length"


def test_chat_with_an_unknown_model_is_an_error(sdk: Any) -> None:
    with pytest.raises(sdk.SDKError) as err:
        sdk.client.chat.complete(model="ft:open-mistral-7b:nope:none:00000000",
                                 messages=[{"role": "user", "content": "hi"}])
    assert "Invalid model" in str(err.value) or "400" in str(err.value)


def test_classifiers_answer_with_the_labels_of_the_training_data(sdk: Any, tmp_path: Path) -> None:
    rows = [{"text": "Where is my parcel? It has not arrived.", "labels": {"intent": "shipping"}},
            {"text": "I was charged twice on my card.", "labels": {"intent": "billing"}},
            {"text": "My order tracking has not moved in days.", "labels": {"intent": "shipping"}},
            {"text": "Please refund the duplicate payment.", "labels": {"intent": "billing"}}]
    model = _trained_model(sdk, tmp_path, rows, model="ministral-3b-latest", job_type="classifier",
                           classifier_targets=[{"name": "intent", "labels": ["shipping", "billing"]}])
    out = sdk.client.classifiers.classify(model=model, inputs=["charged twice for one order", "parcel not arrived"])
    tops = [max(r["intent"].scores, key=r["intent"].scores.get) for r in out.results]
    assert tops == ["billing", "shipping"]
    # mistralai 2.x names this argument `input` (the JSON field); 1.x called it `inputs`.
    argument = "input" if SDK_MAJOR >= 2 else "inputs"
    conversation = {"messages": [{"role": "user", "content": "refund the duplicate payment please"}]}
    chat = sdk.client.classifiers.classify_chat(model=model, **{argument: conversation})
    scores = chat.results[0]["intent"].scores
    assert max(scores, key=scores.get) == "billing" and abs(sum(scores.values()) - 1.0) < 1e-6
