"""A small project for the evaluation tests: support data for a fictional shop, a held-out evaluation set of
paraphrased questions, and deliberately wrong training data (cooking answers) for a model that must lose."""

from __future__ import annotations

import json
from pathlib import Path

FACTS = [
    ("warranty on the X100 headphones", "The X100 headphones have a 2-year warranty."),
    ("return window for shoes", "Shoes can be returned within 30 days."),
    ("shipping cost to Canada", "Shipping to Canada costs 12 dollars."),
    ("battery life of the TrailLamp", "The TrailLamp battery lasts 40 hours."),
    ("store opening hours on Sunday", "On Sunday the store opens from 10 to 16."),
    ("size of the Basecamp tent", "The Basecamp tent sleeps 4 people."),
    ("price of the Summit backpack", "The Summit backpack costs 149 dollars."),
    ("weight of the Ultralight stove", "The Ultralight stove weighs 85 grams."),
]
TRAIN_FORMS = ["What is the {}?", "Can you tell me the {}?", "I need to know the {}.", "Quick question about the {}"]
EVAL_FORM = "hi, what's the {} please"
WRONG = [("how long to boil an egg", "Boil an egg for 9 minutes."),
         ("how to cook rice", "Use two cups of water per cup of rice."),
         ("best pasta sauce", "A simple tomato and basil sauce."),
         ("how to bake bread", "Knead the dough and bake at 220 degrees.")]

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: support}
spec: {path: ../data/support.jsonl}
---
apiVersion: ftops/v1
kind: File
metadata: {name: cooking}
spec: {path: ../data/cooking.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: good}
spec:
  model: open-mistral-7b
  training_files: [{file: support}]
  hyperparameters: {training_steps: 2}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: wrong}
spec:
  model: open-mistral-7b
  training_files: [{file: cooking}]
  hyperparameters: {training_steps: 2}
---
apiVersion: ftops/v1
kind: Model
metadata: {name: good}
spec: {job: good, name: support-good}
---
apiVersion: ftops/v1
kind: Model
metadata: {name: wrong}
spec: {job: wrong, name: support-wrong}
"""


def _chat(question: str, answer: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": question},
                                    {"role": "assistant", "content": answer}]})


def make_eval_project(root: Path) -> Path:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    support = [_chat(form.format(topic), answer) for topic, answer in FACTS for form in TRAIN_FORMS]
    cooking = [_chat(q, a) for q, a in WRONG for _ in range(3)]
    (root / "data" / "support.jsonl").write_text("\n".join(support) + "\n")
    (root / "data" / "cooking.jsonl").write_text("\n".join(cooking) + "\n")
    evals = [json.dumps({"messages": [{"role": "user", "content": EVAL_FORM.format(topic)}], "expected": answer})
             for topic, answer in FACTS]
    (root / "data" / "eval.jsonl").write_text("\n".join(evals) + "\n")
    (root / "manifests" / "project.yaml").write_text(MANIFEST)
    return root
