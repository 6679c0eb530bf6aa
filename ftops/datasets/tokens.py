"""Token counting for valid rows, exact with Mistral's own tokenizers when mistral-common is installed.

``data_tokens`` is counted like mistral-finetune's ``validate_data`` (every token of every valid row,
``dataset-rules.md`` §1.6-§1.7). For v3 tokenizers (SentencePiece and tekken) we build the count from the
§1.6 layout (BOS, ``[INST]``/``[/INST]`` around user turns with the system prompt glued to the last one,
EOS after assistant turns, tool blocks) and ``encode`` only the text pieces: it gives the same figures as
``encode_instruct`` without building pydantic objects per row. v7 goes through ``encode_instruct``
itself. Image chunks are not counted (their tokens depend on the image size; text chunks are). Without
mistral-common the count is a labelled estimate (``tokenizer="estimate"``) from a bytes-per-token ratio
calibrated on the shared real datasets. Importing this module never imports mistral-common; each tokenizer
is loaded once.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ftops.datasets.rules_instruct import messages_of, only_last, tools_of

# UTF-8 bytes per text token, measured on hh-rlhf with v3 SentencePiece (see docs/benchmarks.md).
ESTIMATE_BYTES_PER_TOKEN = 4.2


@dataclass(frozen=True)
class TokenizerChoice:
    name: str  # "v3-spm", "v7-spm", "tekken", "tekken-mm" or "estimate"
    exact: bool
    note: str | None = None


def choose_tokenizer(model: str | None) -> TokenizerChoice:
    """The tokenizer mistral-common's model table gives a base model (dataset-rules.md §2.5)."""
    if model is None:
        return TokenizerChoice("v3-spm", True, "no model given: v3 SentencePiece, as Mistral's validate_data")
    base = model.split(":")[1] if model.startswith("ft:") and model.count(":") >= 1 else model
    for prefix, name in (
        ("open-mistral-7b", "v3-spm"), ("codestral", "v3-spm"), ("mistral-large-2407", "v3-spm"),
        ("mistral-large", "v7-spm"), ("open-mistral-nemo", "tekken"), ("ministral-8b", "tekken"),
        ("mistral-small", "tekken"), ("pixtral", "tekken-mm"),
    ):
        if base.startswith(prefix):
            return TokenizerChoice(name, True)
    if base.startswith("ministral-3b"):
        return TokenizerChoice("tekken", False, f"{model} is not in mistral-common's tokenizer table; "
                                                "counted with tekken (Ministral 8B's), may differ slightly")
    return TokenizerChoice("v3-spm", False, f"unknown model {model!r}: counted with v3 SentencePiece")


# Loading a tokenizer takes seconds; threads asking at once (the local API validates jobs in a thread pool)
# must wait for one load instead of each loading its own copy.
_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def _load(name: str) -> Any:
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    if name == "v3-spm":
        return MistralTokenizer.v3()
    if name == "v7-spm":
        return MistralTokenizer.v7()
    if name == "tekken-mm":
        return MistralTokenizer.v3(is_tekken=True, is_mm=True)
    return MistralTokenizer.v3(is_tekken=True)


def mistral_common_available() -> bool:
    try:
        import mistral_common.tokens.tokenizers.mistral  # noqa: F401
    except ImportError:
        return False
    return True


class TokenCounter:
    """Counts (all tokens, trained tokens) of one valid row of a given kind."""

    def __init__(self, choice: TokenizerChoice, length: Callable[[str], int], mistral: Any = None) -> None:
        self.choice = choice
        self._len = length
        self._mistral = mistral  # the MistralTokenizer, for encode_instruct on the rows that need it

    def count(self, row: dict[str, Any], kind: str, has_chunks: bool = False) -> tuple[int, int]:
        if kind == "pretrain":
            text = row.get("text", row.get("content"))
            total = 2 + self._len(text if isinstance(text, str) else "")
            return total, total
        if kind == "classifier":
            if isinstance(row.get("text"), str):
                return 2 + self._len(row["text"]), 0
            return self._instruct(row)[0], 0
        if self._mistral is not None and self.choice.name == "v7-spm":
            return self._encode_instruct(row)
        return self._instruct(row)

    def _instruct(self, row: dict[str, Any]) -> tuple[int, int]:
        """The §1.6 layout: specials counted by hand, text pieces encoded."""
        msgs = [m for m in messages_of(row) if m.get("role") != "system"]
        system = row.get("system_prompt")
        for m in messages_of(row):
            if m.get("role") == "system":
                system = _text(m)
        length = self._len
        last_only = only_last(row)
        user_idx = [i for i, m in enumerate(msgs) if m.get("role") == "user"]
        last_user = user_idx[-1] if user_idx else -1
        tools = tools_of(row)
        total, trained = 1, 0  # BOS
        last = len(msgs) - 1
        for i, m in enumerate(msgs):
            role = m.get("role")
            if role == "user":
                content = _text(m)
                if i == last_user:
                    if system:
                        content = f"{system}\n\n{content}"
                    if tools is not None:
                        total += 2 + length(json.dumps(_tool_dump(tools[1]), ensure_ascii=False))
                total += 2 + length(content)
            elif role == "tool":
                result = {"content": _maybe_json(_text(m)), "call_id": m.get("tool_call_id")}
                total += 2 + length(json.dumps(result, ensure_ascii=False))
            else:
                calls = m.get("tool_calls")
                if calls:
                    dumped = [_call_dump(c, keep_id=i != last) for c in calls]
                    n = 2 + length(json.dumps(dumped, ensure_ascii=False))
                else:
                    n = 1 + length(_text(m))
                total += n
                weight = m.get("weight")
                if (weight is None or _as_float(weight) == 1.0) and (not last_only or i == last):
                    trained += n
        return total, trained

    def _encode_instruct(self, row: dict[str, Any]) -> tuple[int, int]:
        from ftops.datasets._mc_request import build_request

        try:
            request = build_request(row)
            tokens = self._mistral.instruct_tokenizer.encode_instruct(request).tokens
        except Exception:  # a row our rules accept but this tokenizer version rejects
            return self._instruct(row)
        _, trained = self._instruct(row)
        return len(tokens), trained


def _text(msg: dict[str, Any]) -> str:
    content = msg.get("content")
    if content is None:
        content = msg.get("text")
    if isinstance(content, list):
        return "\n\n".join(c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text")
    return content if isinstance(content, str) else ""


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _tool_dump(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {k: t["function"][k] for k in ("name", "description", "parameters")}}
            for t in tools]


def _call_dump(call: dict[str, Any], keep_id: bool) -> dict[str, Any]:
    func = call["function"]
    out: dict[str, Any] = {"name": func["name"], "arguments": _maybe_json(func["arguments"])}
    if keep_id and call.get("id") and call["id"] != "null":
        out["id"] = call["id"]
    return out


def _estimate_len(text: str) -> int:
    return math.ceil(len(text.encode("utf-8", "replace")) / ESTIMATE_BYTES_PER_TOKEN) if text else 0


@lru_cache(maxsize=8)
def get_counter(model: str | None, *, exact: bool = True) -> TokenCounter:
    """The counter for a model: exact when mistral-common is importable (and ``exact``), else an estimate."""
    choice = choose_tokenizer(model)
    if not exact or not mistral_common_available():
        return TokenCounter(TokenizerChoice("estimate", False, "mistral-common not installed: "
                                            f"~{ESTIMATE_BYTES_PER_TOKEN} bytes/token estimate "
                                            "(pip install 'ftops[tokenizers]' for exact counts)"),
                            _estimate_len)
    with _LOAD_LOCK:
        mistral = _load(choice.name)
    raw = mistral.instruct_tokenizer.tokenizer
    model_obj: Any = getattr(raw, "_model", None)
    length: Callable[[str], int]
    if choice.name.startswith("tekken") and hasattr(model_obj, "encode_ordinary"):
        # tekken's encode() is the tiktoken encoding plus an id shift: the length is the same.
        enc = model_obj.encode_ordinary
        length = lambda s: len(enc(s)) if s else 0  # noqa: E731
    elif hasattr(model_obj, "encode") and not choice.name.startswith("tekken"):
        enc = model_obj.encode
        length = lambda s: len(enc(s)) if s else 0  # noqa: E731
    else:
        def length(s: str) -> int:
            return len(raw.encode(s, bos=False, eos=False)) if s else 0
    return TokenCounter(choice, length, mistral)
