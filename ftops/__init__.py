"""ftops: GitOps for LLM fine-tuning (plan/apply for Mistral fine-tuning resources)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
