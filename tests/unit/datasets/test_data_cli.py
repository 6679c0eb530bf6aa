"""``ftops data ...`` through click's CliRunner: exit codes, output lines, JSON shape, fix and split."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from ftops.cli import cli

U = {"role": "user", "content": "hi"}
A = {"role": "assistant", "content": "hello"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_validate_ok_and_invalid(write_jsonl: Callable[..., Path]) -> None:
    good = write_jsonl({"messages": [U, A]})
    bad = write_jsonl({"messages": [U, A]}, {"messages": [U]})
    code, out = run("data", "validate", str(good))
    assert code == 0 and ": OK: instruct data, 1 of 1 lines valid" in out
    code, out = run("data", "validate", str(good), str(bad))
    assert code == 1
    assert f"{bad}:2: E207 the last message must be an assistant message, got user" in out
    assert "E207 ×1" in out


def test_validate_json_is_stable(write_jsonl: Callable[..., Path]) -> None:
    bad = write_jsonl({"messages": [U]}, b"{", {"messages": [U, A]})
    code, out = run("data", "validate", "--format", "json", "--no-tokens", str(bad))
    assert code == 1
    data = json.loads(out)
    assert data["version"] == 1 and data["ok"] is False
    f = data["files"][0]
    assert f["error_counts"] == {"E102": 1, "E207": 1}
    assert [(e["line"], e["code"]) for e in f["errors"]] == [(1, "E207"), (2, "E102")]
    assert {"path", "kind", "total_lines", "valid_lines", "bytes", "data_tokens", "tokens_exact",
            "tokenizer", "warnings", "errors_truncated"} <= set(f)


def test_validate_max_errors(write_jsonl: Callable[..., Path]) -> None:
    bad = write_jsonl(*[{"messages": [U]}] * 5)
    code, out = run("data", "validate", "--max-errors", "2", "--no-tokens", str(bad))
    assert code == 1 and out.count(": E207 ") == 2 and "3 more error(s) not shown" in out


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    code, out = run("data", "validate", str(tmp_path / "nope.jsonl"))
    assert code == 1 and "file not found" in out and "Traceback" not in out


def test_stats_text_and_json(write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl(*[{"messages": [U, A, U, {**A, "weight": 0}, U, A]}] * 3)
    code, out = run("data", "stats", str(path), "--training-steps", "10")
    assert code == 0
    assert "examples" in out and "carry loss" in out and "recommendation: only 3 example(s)" in out
    code, out = run("data", "stats", str(path), "--format", "json", "--model", "open-mistral-7b",
                    "--training-steps", "10")
    data = json.loads(out)
    assert data["examples"] == 3 and data["roles"] == {"assistant": 9, "user": 9}
    assert data["messages_per_example"]["max"] == 6
    assert data["tokens"]["exact"] is True and 0 < data["tokens"]["trained_share"] < 1
    assert data["epochs"] == round(10 * 131_072 / data["tokens"]["data_tokens"], 4)


def test_fix_reports_and_output_validates(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    legacy = {"messages": [U, {"role": "assistant", "content": None,
                               "function_call": {"name": "f", "arguments": "{}"}},
                           {"role": "function", "name": "f", "content": "42"}, A, U],
              "functions": [{"name": "f", "parameters": {"type": "object"}}]}
    openai = {"messages": [U, {"role": "assistant", "content": "",
                               "tool_calls": [{"id": "call_abc123", "type": "function",
                                               "function": {"name": "f", "arguments": {"x": 1}}}]},
                           {"role": "tool", "tool_call_id": "call_abc123", "content": "1"}, A],
              "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}]}
    src = write_jsonl({"messages": [U, A]}, legacy, openai, "", {"messages": [U]})
    before = src.read_bytes()
    out = tmp_path / "fixed.jsonl"
    code, text = run("data", "fix", str(src), "-o", str(out))
    assert code == 0, text
    assert f"{src}:2: changed: legacy 'functions' → 'tools'" in text
    assert f"{src}:4: dropped: E103" in text and f"{src}:5: dropped:" in text
    assert "3 of 5 lines (2 changed, 2 dropped)" in text
    assert src.read_bytes() == before
    code, text = run("data", "validate", str(out))
    assert code == 0, text
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    call_id = rows[2]["messages"][1]["tool_calls"][0]["id"]
    assert len(call_id) == 9 and rows[2]["messages"][2]["tool_call_id"] == call_id
    assert rows[1]["messages"][-1]["role"] == "assistant"
    # Deterministic: the same input gives the same bytes.
    out2 = tmp_path / "fixed2.jsonl"
    run("data", "fix", str(src), "-o", str(out2), "--quiet")
    assert out2.read_bytes() == out.read_bytes()


def test_fix_refuses_to_overwrite_input(write_jsonl: Callable[..., Path]) -> None:
    src = write_jsonl({"messages": [U, A]})
    code, out = run("data", "fix", str(src), "-o", str(src))
    assert code == 1 and "refusing to overwrite the input" in out


def test_split_is_deterministic_and_caps_eval(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": f"q{i} " + "x" * 2000}, A]} for i in range(1000)]
    src = write_jsonl(*rows)
    t1, e1, t2, e2 = (tmp_path / n for n in ("t1", "e1", "t2", "e2"))
    code, out = run("data", "split", str(src), "--eval-fraction", "0.9", "--seed", "7",
                    "--train", str(t1), "--eval", str(e1))
    assert code == 0 and "eval capped at 1 MB" in out
    assert e1.stat().st_size <= 1024 * 1024
    run("data", "split", str(src), "--eval-fraction", "0.9", "--seed", "7", "--train", str(t2), "--eval", str(e2))
    assert t1.read_bytes() == t2.read_bytes() and e1.read_bytes() == e2.read_bytes()
    assert len(t1.read_text().splitlines()) + len(e1.read_text().splitlines()) == 1000


def test_split_fraction_and_seed(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    src = write_jsonl(*[{"messages": [{"role": "user", "content": f"q{i}"}, A]} for i in range(400)])
    code, out = run("data", "split", str(src), "--eval-fraction", "0.25", "--seed", "1")
    assert code == 0
    n_eval = len(src.with_name(src.name.removesuffix(".jsonl") + ".eval.jsonl").read_text().splitlines())
    assert 60 < n_eval < 140
    code, out = run("data", "split", str(src), "--eval-fraction", "1.5", "--seed", "1")
    assert code == 1 and "between 0 and 1" in out


def test_stats_advice_on_a_tiny_dataset_is_consistent(tmp_path: Path) -> None:
    """'1 step is 96.9 epochs' must not come with '~1 steps give 3 epochs' (issue 12): it says to add data."""
    from ftops.datasets.stats import compute_stats

    path = tmp_path / "tiny.jsonl"
    row = {"messages": [{"role": "user", "content": "What is two plus two?"},
                        {"role": "assistant", "content": "Four."}]}
    path.write_text((json.dumps(row) + "\n") * 12)
    advice = " | ".join(compute_stats(path, model="open-mistral-7b", training_steps=1).recommendations)
    assert "1 step is" in advice and "add data" in advice and "3 epochs" in advice and "gives" not in advice
    big = " | ".join(compute_stats(path, model="open-mistral-7b", training_steps=50).recommendations)
    assert "add data" in big  # 50 steps of this data: fewer steps cannot reach 3 epochs either
