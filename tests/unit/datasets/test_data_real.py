"""Agreement with Mistral's reference validator (mistral-finetune validate_data, mistral-common 1.4.4, v3
SentencePiece) on the real shared datasets, and exact token counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftops.datasets import validate_path
from ftops.datasets.fix import fix_file


def test_hh_rlhf_rejects_exactly_the_four_empty_final_turns(shared: Path) -> None:
    report = validate_path(shared / "hh_rlhf_harmless_base_test_messages.jsonl")
    assert (report.total_lines, report.valid_lines) == (2312, 2308)
    assert [(e.line, e.code) for e in report.errors] == [(87, "E308"), (517, "E308"), (926, "E308"), (1104, "E308")]
    # validate_data's data_tokens for the 2,308 valid rows, v3 SentencePiece.
    assert report.data_tokens == 361_855
    assert report.tokens_exact and report.tokenizer == "v3-spm"


def test_toy_set_rejects_only_the_system_assistant_row(shared: Path) -> None:
    report = validate_path(shared / "openai_cookbook_toy_chat_fine_tuning.jsonl")
    # Row 4 is [system, assistant]: one message after the system prompt, and it is not a user message.
    assert [(e.line, e.code) for e in report.errors] == [(4, "E206")]
    assert report.valid_lines == 4
    assert report.data_tokens == 12_173


def test_drone_set_rejected_whole_then_fixed(shared: Path, tmp_path: Path) -> None:
    report = validate_path(shared / "openai_cookbook_drone_training.jsonl", count_tokens=False)
    assert report.valid_lines == 0 and report.invalid_lines == 103
    assert report.error_counts == {"E403": 103, "E414": 103}
    out = tmp_path / "drone.fixed.jsonl"
    result = fix_file(shared / "openai_cookbook_drone_training.jsonl", out)
    assert (result.lines_out, result.changed, result.dropped) == (103, 103, 0)
    fixed = validate_path(out)
    assert fixed.ok and fixed.valid_lines == 103 and not fixed.warnings
    assert fixed.data_tokens > 0


def test_tekken_counts_fewer_tokens_on_hh(shared: Path) -> None:
    report = validate_path(shared / "hh_rlhf_harmless_base_test_messages.jsonl", model="open-mistral-nemo")
    assert report.tokenizer == "tekken" and report.tokens_exact
    # dataset-rules.md §1.7: tekken counts are about 5% lower than v3 SentencePiece on this data.
    assert 0.92 < report.data_tokens / 361_855 < 0.97


@pytest.mark.parametrize("model", [None, "open-mistral-nemo"])
def test_layout_matches_encode_instruct_on_tool_rows(shared: Path, tmp_path: Path, model: str | None) -> None:
    import json

    from ftops.datasets._mc_request import build_request
    from ftops.datasets.tokens import get_counter

    out = tmp_path / "drone.fixed.jsonl"
    fix_file(shared / "openai_cookbook_drone_training.jsonl", out)
    counter = get_counter(model)
    rows = [json.loads(line) for line in out.read_text().splitlines()[:20]]
    row = rows[0]
    tool = row["tools"][0]["function"]["name"]
    rows.append({"messages": [{"role": "system", "content": "S é"}, {"role": "user", "content": "go"},
                              {"role": "assistant", "tool_calls": [{"id": "abcDEF123", "function": {
                                  "name": tool, "arguments": "{\"altitude\": 5}"}}]},
                              {"role": "tool", "tool_call_id": "abcDEF123", "content": "{\"ok\": true}"},
                              {"role": "assistant", "content": "done"}, {"role": "user", "content": "x"},
                              {"role": "assistant", "content": "y", "weight": 0}], "tools": row["tools"]})
    tokenizer = counter._mistral.instruct_tokenizer
    for r in rows:
        assert counter.count(r, "instruct")[0] == len(tokenizer.encode_instruct(build_request(r)).tokens)


def test_ministral_3b_falls_back_and_says_so(shared: Path) -> None:
    report = validate_path(shared / "openai_cookbook_toy_chat_fine_tuning.jsonl", model="ministral-3b-latest")
    assert report.tokenizer == "tekken" and not report.tokens_exact
    assert report.tokenizer_note and "ministral-3b" in report.tokenizer_note


def test_estimate_without_mistral_common(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftops.datasets import tokens

    tokens.get_counter.cache_clear()
    monkeypatch.setattr(tokens, "mistral_common_available", lambda: False)
    try:
        report = validate_path(shared / "hh_rlhf_harmless_base_test_messages.jsonl")
    finally:
        tokens.get_counter.cache_clear()
    assert report.tokenizer == "estimate" and not report.tokens_exact
    assert abs(report.data_tokens - 361_855) / 361_855 < 0.10


def test_importing_datasets_does_not_import_mistral_common() -> None:
    import subprocess
    import sys

    code = "import sys, ftops.datasets, ftops.cli; print('mistral_common' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
