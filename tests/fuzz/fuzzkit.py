"""Seeded mutation fuzzing of ftops inputs through the real CLI: manifests, locks, saved plans, datasets.

One :class:`Arena` is a project with a lock and a saved plan made by the real CLI (embedded local API).
Each trial mutates one input (text mutations, JSON structure mutations, hostile snippets), runs the command
that reads it in-process (CliRunner) and checks the invariants: exit 0, 1 or 2; no "internal error" and no
traceback; the run ends within :data:`TRIAL_SECONDS`; a refused command (exit 1) changed no input file; no
secret in the output. ``tests/fuzz`` runs a CI-sized budget; ``bench/fuzz_inputs.py`` a longer one.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ftops.cli import cli
from ftops.plan.planfile import BINDING, plan_digest

TRIAL_SECONDS = 30.0
SECRET = "sk-FUZZSECRET-9f8e7d6c5b4a39281706f5e4"
SECRET_URL = "https://user:FUZZPASSWORD@127.0.0.1:9/?token=FUZZQUERY#FUZZFRAGMENT"
SECRETS = (SECRET, "FUZZPASSWORD", "FUZZQUERY", "FUZZFRAGMENT")

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: train, labels: {team: support}}
spec: {path: ../data/train.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata:
  name: support
spec:
  model: open-mistral-7b
  training_files:
    - file: train
  hyperparameters: {training_steps: 2, learning_rate: 1.0e-4}
  state: created
"""
ROW = ('{"messages": [{"role": "user", "content": "Where is order %d?"}, '
       '{"role": "assistant", "content": "It ships tomorrow."}]}\n')

YAML_SNIPPETS = [
    "kind: [File]\n", "kind: {a: 1}\n", "apiVersion: 1\n", "metadata: &m {name: x, labels: *m}\n",
    "x0: &a [l, l, l, l, l, l, l, l, l, l]\nx1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nx3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "x4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nx5: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "deep: " + "[" * 3000 + "]" * 3000 + "\n", "\t- tab\n", "spec: {path: /dev/zero}\n",
    "spec: {path: ../../../../etc/passwd}\n", "spec: {path: ../data/" + "n" * 300 + "}\n",
    f"  integrations: [{{project: p, api_key: {SECRET}}}]\n", "  training_steps: 99999999999999999999999\n",
    "  learning_rate: .nan\n", "  state: exploded\n", "--- !!python/object:os.system {}\n", "a: !!binary AAAA\n",
    "? [complex, key]\n: v\n", "name: \x07bell\n", "date: 2024-13-45\n", "---\n", "...\n", "%YAML 1.1\n---\n",
    "spec:\n  matrix: {learning_rate: [" + ", ".join(["1e-4"] * 50) + "]}\n", "<<: *undefined\n",
]
JSON_VALUES: list[Any] = [None, -1, 0, "5", 10**30, 1.5, True, "", "x" * 5000, [], {}, [[[]]], "\ud800",
                          "../../etc/passwd", SECRET_URL, {"$ref": "#"}, "00000000-0000-4000-8000-000000000000"]


def mutate_text(rng: random.Random, text: str, snippets: list[str]) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        i = rng.randrange(len(lines))
        if op == 0:
            lines.insert(i, rng.choice(snippets))
        elif op == 1 and len(lines) > 1:
            del lines[i]
        elif op == 2:
            lines.insert(i, lines[i])
        elif op == 3 and lines[i]:
            j = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + chr(rng.choice([0, 7, 9, 10, 34, 39, 58, 91, 123, 0xFEFF, 0xD7FF])) + lines[i][j:]
        elif op == 4:
            cut = "".join(lines)
            return cut[: rng.randrange(len(cut) + 1)]
        elif op == 5:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = lines[i].replace(": ", ": " + rng.choice(["", "-", "[", "{", "&x ", "*x ", "!!str "]), 1)
    return "".join(lines)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def mutate_json(rng: random.Random, data: Any) -> str:
    """A structural mutation of ``data`` (changed in place), as JSON text; sometimes a textual one."""
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(data)[1:] or [()])
        if not path:
            break
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = rng.randrange(5)
        if op <= 1:
            parent[last] = rng.choice(JSON_VALUES)
        elif op == 2:
            del parent[last]
        elif op == 3 and isinstance(parent[last], list):
            parent[last] = parent[last] + parent[last][:1]
        elif op == 3 and isinstance(parent[last], dict):
            parent[last]["unexpected"] = rng.choice(JSON_VALUES)
        elif isinstance(parent[last], list):
            parent[last] = list(reversed(parent[last]))
    text = json.dumps(data, indent=2)
    roll = rng.random()
    if roll < 0.05:
        return text.replace("{", "{" + '"deep": ' + "[" * 50_000 + "]" * 50_000 + ", ", 1)
    if roll < 0.10:
        return text[: rng.randrange(len(text) + 1)]
    return text


@dataclass
class Stats:
    trials: dict[str, int] = field(default_factory=dict)
    exits: dict[str, dict[int, int]] = field(default_factory=dict)
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)

    def record(self, kind: str, code: int, seconds: float) -> None:
        self.trials[kind] = self.trials.get(kind, 0) + 1
        self.exits.setdefault(kind, {})
        self.exits[kind][code] = self.exits[kind].get(code, 0) + 1
        self.slowest = max(self.slowest, seconds)


def _digest_files(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


class Arena:
    """A project with a lock and a saved plan, rebuilt from a pristine copy for each trial."""

    def __init__(self, workdir: Path) -> None:
        self.pristine = workdir / "pristine"
        self.work = workdir / "work"
        root = self.pristine
        (root / "manifests").mkdir(parents=True)
        (root / "data").mkdir()
        (root / "data" / "train.jsonl").write_text("".join(ROW % i for i in range(10)))
        (root / "manifests" / "main.yaml").write_text(MANIFEST)
        first = self.invoke(root, "apply", "--auto-approve")
        assert first.exit_code == 0, first.output
        (root / "manifests" / "main.yaml").write_text(MANIFEST.replace("training_steps: 2", "training_steps: 3"))
        planned = self.invoke(root, "plan", "-o", "plan.json")
        assert planned.exit_code == 0, planned.output
        self.lock = json.loads((root / "ftops.lock").read_text())
        self.plan = json.loads((root / "plan.json").read_text())

    @staticmethod
    def invoke(root: Path, *args: str) -> Any:
        return CliRunner().invoke(cli, ["-C", str(root), *args])

    def fresh(self) -> Path:
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(self.pristine, self.work, symlinks=True)
        return self.work

    def check(self, stats: Stats, kind: str, label: str, root: Path, args: list[str], inputs: list[Path]) -> None:
        before = _digest_files(inputs)
        start = time.monotonic()
        result = self.invoke(root, *args)
        seconds = time.monotonic() - start
        output = result.output
        code = result.exit_code
        stats.record(kind, code, seconds)
        problems = []
        if code not in (0, 1, 2):
            problems.append(f"exit {code}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"uncaught {type(result.exception).__name__}: {result.exception}")
        if "internal error" in output or "Traceback" in output:
            problems.append("internal error: " + output[-300:])
        if seconds > TRIAL_SECONDS:
            problems.append(f"took {seconds:.1f} s")
        if code == 1 and _digest_files(inputs) != before:
            problems.append("a refused command changed an input file")
        leaked = [s for s in SECRETS if s in output]
        if leaked:
            problems.append(f"secret in output: {leaked}")
        if problems:
            stats.failures.append(f"{kind} {label} {args}: {'; '.join(problems)}")


def trial_manifest(arena: Arena, rng: random.Random, stats: Stats, n: int) -> None:
    root = arena.fresh()
    path = root / "manifests" / "main.yaml"
    path.write_text(mutate_text(rng, MANIFEST, YAML_SNIPPETS), encoding="utf-8", errors="surrogatepass")
    command = ["validate"] if n % 3 else ["plan"]
    arena.check(stats, "manifest", f"#{n}", root, command, [path, root / "ftops.lock"])


def trial_lock(arena: Arena, rng: random.Random, stats: Stats, n: int) -> None:
    root = arena.fresh()
    path = root / "ftops.lock"
    path.write_text(mutate_json(rng, json.loads(json.dumps(arena.lock))), encoding="utf-8", errors="surrogatepass")
    command = [["plan"], ["status"], ["apply", "--auto-approve"]][n % 3]
    arena.check(stats, "lock", f"#{n}", root, command, [path])


def trial_plan(arena: Arena, rng: random.Random, stats: Stats, n: int) -> None:
    root = arena.fresh()
    path = root / "plan.json"
    data = json.loads(json.dumps(arena.plan))
    text = mutate_json(rng, data)
    if n % 2 and isinstance(data, dict) and isinstance(data.get(BINDING), dict):
        try:  # the attacker's way: a digest that matches the edited content
            content = {k: v for k, v in data.items() if k != BINDING}
            data[BINDING]["digest"] = plan_digest(content, data[BINDING].get("targets") or [])
            text = json.dumps(data, indent=2)
        except (TypeError, ValueError, AttributeError):
            pass
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    arena.check(stats, "plan", f"#{n}", root, ["apply", "plan.json"], [path, root / "ftops.lock"])


def trial_dataset(arena: Arena, rng: random.Random, stats: Stats, n: int) -> None:
    root = arena.fresh()
    path = root / "data" / "train.jsonl"
    rows = [ROW % i for i in range(10)]
    snippets = ['{"messages": [{"role": "user", "content": "a\\ud800"}]}\n', "{}\n", "[]\n", "null\n",
                '{"messages": ' + "[" * 2000 + "]" * 2000 + "}\n", '{"text": "x", "labels": {"a": 1}}\n',
                '{"messages": [{"role": "tool", "content": 5, "tool_call_id": null}]}\n', "\xef\xbb\xbf{}\n"]
    path.write_text(mutate_text(rng, "".join(rows), snippets), encoding="utf-8", errors="surrogatepass")
    out = root / "fixed.jsonl"
    command = [["data", "validate", str(path)], ["data", "fix", str(path), "-o", str(out)],
               ["data", "stats", str(path)], ["validate"]][n % 4]
    arena.check(stats, "dataset", f"#{n}", root, command, [path])


TRIALS: dict[str, Callable[[Arena, random.Random, Stats, int], None]] = {
    "manifest": trial_manifest, "lock": trial_lock, "plan": trial_plan, "dataset": trial_dataset,
}


def run(arena: Arena, kind: str, *, seed: int, budget_seconds: float, max_trials: int, stats: Stats) -> None:
    """Trials of one kind until the budget or the count runs out (whichever first)."""
    rng = random.Random(f"{kind}-{seed}")
    deadline = time.monotonic() + budget_seconds
    n = 0
    while n < max_trials and time.monotonic() < deadline:
        TRIALS[kind](arena, rng, stats, n)
        n += 1
