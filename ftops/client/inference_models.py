"""Typed answers of the model-calling endpoints (chat completions, classifications).

Only what ftops reads is typed; extra fields are ignored so a newer API keeps parsing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ChatMessage(_Answer):
    role: str = "assistant"
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            return "".join(str(c.get("text", "")) for c in self.content if isinstance(c, dict))
        return ""


class ChatChoice(_Answer):
    index: int = 0
    message: ChatMessage
    finish_reason: str | None = None


class Usage(_Answer):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(_Answer):
    id: str
    model: str
    choices: list[ChatChoice] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)

    @property
    def text(self) -> str:
        return self.choices[0].message.text if self.choices else ""


class TargetScores(_Answer):
    scores: dict[str, float] = Field(default_factory=dict)

    def top(self) -> str | None:
        return max(sorted(self.scores), key=lambda k: self.scores[k]) if self.scores else None


class Classification(_Answer):
    id: str
    model: str
    results: list[dict[str, TargetScores]] = Field(default_factory=list)
