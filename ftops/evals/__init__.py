"""Evaluations: a JSONL of cases with expected answers or labels, scored against a model's answers.

``cases`` reads an evaluation set, ``scorers`` holds the built-in scorers, ``runner`` calls a model on every
case (in parallel) and ``compare`` lines two runs up case by case (A/B). ``gate`` decides whether a candidate
model may be promoted. Nothing here knows about manifests or the lock: callers pass values in.
"""

from ftops.evals.cases import EvalCase, load_cases
from ftops.evals.runner import CaseResult, EvalRun, run_eval
from ftops.evals.scorers import SCORERS, Scorer, ScorerSpec, make_scorer

__all__ = ["SCORERS", "CaseResult", "EvalCase", "EvalRun", "Scorer", "ScorerSpec", "load_cases", "make_scorer",
           "run_eval"]
