"""libyaml and the pure-Python parser give the same documents, positions and errors; bounds hold in both."""

from __future__ import annotations

import time

import pytest

from ftops.manifest.yamlnodes import (
    MAX_DEPTH,
    Document,
    YamlLimitError,
    YamlSyntaxError,
    has_fast_parser,
    iter_documents,
)

PARSERS = [pytest.param(True, id="libyaml"), pytest.param(False, id="pure-python")]

VALID = {
    "manifest": """\
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support, labels: {team: "a b"}}
spec:
  model: open-mistral-7b
  training_files:
    - file: train
      weight: 0.5
  hyperparameters: {learning_rate: 1e-4, training_steps: 10, epochs: .5}
  note: |
    multi
    line
""",
    "anchors and merge": "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
    "scalars": "a: yes\nb: ~\nc: 0x1F\nd: 2024-01-02\ne: '0123'\nf: -.inf\ng: 1_000\nh: !!str 12\n",
    "several documents": "a: 1\n---\nb: [1, {c: 2}]\n--- \n...\n---\nd: é ✓ \U0001f600\n",
    "duplicate keys": "a: 1\nb:\n  c: 2\n  c: 3\na: 4\n",
    "complex key": "? [a, b]\n: 1\nc: 2\n",
    "crlf and bom": "\ufeffa: 1\r\nb:\r\n  - x\r\n",
    "tabs in values": "a: 'x\ty'\nb: \"\\t\"\n",
    "empty": "",
    "comments only": "# nothing\n",
    "recursive anchor": "a: &a [1, *a]\n",
}

BROKEN = {
    "unclosed flow": "a: [1, 2\nb: 3\n",
    "bad indent": "a:\n  b: 1\n c: 2\n",
    "tab indent": "a:\n\tb: 1\n",
    "control character": "a: \x07\n",
    "unknown alias": "a: *nope\n",
    "bad timestamp": "a: 2024-13-45\n",
    "doc then error": "a: 1\n---\nb: [\n",
    "unclosed quote": "a: 'x\nb: 2\n",
    "deep flow": "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "too deep block": "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v\n",
}


def _snapshot(text: str, fast: bool) -> tuple[list[dict[str, object]], tuple[str, str, object] | None]:
    docs: list[dict[str, object]] = []
    error = None
    try:
        for doc in iter_documents(text, fast=fast):
            docs.append(_plain(doc))
    except YamlSyntaxError as exc:
        error = (type(exc).__name__, exc.message, exc.pos)
    return docs, error


def _plain(doc: Document) -> dict[str, object]:
    # asdict() would recurse forever into a recursive anchor: compare the data by its printed shape
    return {"data": repr(doc.data), "start": doc.start, "keys": doc.keys, "values": doc.values,
            "duplicate_keys": doc.duplicate_keys, "bad_keys": doc.bad_keys}


@pytest.mark.skipif(not has_fast_parser(), reason="PyYAML built without libyaml")
@pytest.mark.parametrize("case", sorted(VALID) + sorted(BROKEN))
def test_both_parsers_agree(case: str) -> None:
    text = {**VALID, **BROKEN}[case]
    assert _snapshot(text, True) == _snapshot(text, False)


@pytest.mark.parametrize("fast", PARSERS)
@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_yaml_loads(case: str, fast: bool) -> None:
    docs, error = _snapshot(VALID[case], fast)
    assert error is None
    assert len(docs) == {"empty": 0, "comments only": 0, "several documents": 4}.get(case, 1)


@pytest.mark.parametrize("fast", PARSERS)
def test_positions_are_exact(fast: bool) -> None:
    doc = next(iter_documents(VALID["manifest"], fast=fast))
    assert tuple(doc.key_pos(("spec", "hyperparameters", "learning_rate"))) == (9, 21)
    assert tuple(doc.value_pos(("spec", "training_files", 0, "weight"))) == (8, 15)
    assert doc.data["spec"]["hyperparameters"]["learning_rate"] == 1e-4


@pytest.mark.parametrize("fast", PARSERS)
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_yaml_is_one_error(case: str, fast: bool) -> None:
    _, error = _snapshot(BROKEN[case], fast)
    assert error is not None


@pytest.mark.parametrize("fast", PARSERS)
def test_billion_laughs_fails_fast(fast: bool) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    start = time.monotonic()
    with pytest.raises(YamlLimitError, match="expands to more than 200,000 values") as info:
        list(iter_documents("\n".join(lines) + "\n", fast=fast))
    assert time.monotonic() - start < 5
    assert info.value.pos is not None and info.value.pos.line == 6  # a5: 10**6 leaves


@pytest.mark.parametrize("fast", PARSERS)
def test_alias_count_is_bounded(fast: bool) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 10_001) + "]\n"
    with pytest.raises(YamlLimitError, match="more than 10,000 aliases"):
        list(iter_documents(text, fast=fast))


@pytest.mark.parametrize("fast", PARSERS)
def test_deep_nesting_is_bounded(fast: bool) -> None:
    with pytest.raises(YamlLimitError, match=f"nests more than {MAX_DEPTH} levels"):
        list(iter_documents(BROKEN["deep flow"], fast=fast))
    with pytest.raises(YamlLimitError, match=f"nests more than {MAX_DEPTH} levels"):
        list(iter_documents("a: " + "[" * 100 + "]" * 100 + "\n", fast=fast))
