"""The layering DESIGN.md and the module docstrings promise, checked on every import statement (lazy ones too).

An AST walk rather than a runtime import graph: an import inside a function (the CLI's lazy imports, a
local ``from ftops.render import ...``) breaks a layer just as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ftops"

# The reconciler: everything that plans, applies or records. The local API stands in for Mistral and must
# not know any of it (its only ftops imports are the shared dataset rules, pricing and errors).
RECONCILER = ("ftops.apply", "ftops.plan", "ftops.cli", "ftops.desired", "ftops.live", "ftops.render",
              "ftops.state", "ftops.manifest", "ftops.client", "ftops.hashing", "ftops.tokencount",
              "ftops.providers")

# layer → (forbidden prefixes, or None) and (allowed prefixes, or None)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "ftops.localapi": RECONCILER,
    "ftops.plan": ("ftops.apply", "ftops.render", "ftops.cli", "ftops.localapi"),
    "ftops.apply": ("ftops.render", "ftops.cli", "ftops.localapi"),
    # A provider maps specs to its API and back: it never reaches up into planning, applying or the CLI.
    "ftops.providers": ("ftops.apply", "ftops.plan", "ftops.render", "ftops.cli", "ftops.localapi", "ftops.state",
                        "ftops.desired", "ftops.manifest"),
}
# The client sits at the bottom: it may use only the package version, errors and settings-level basics.
ALLOWED: dict[str, tuple[str, ...]] = {
    "ftops.client": ("ftops.client", "ftops.errors", "ftops.settings", "ftops.__version__"),
}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in ``path``; ``from ftops import x`` resolves x when a module."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                sub = root.joinpath(*candidate.split("."))
                yielded = candidate if sub.with_suffix(".py").is_file() or sub.is_dir() else base
                if base == "ftops" and alias.name == "__version__":
                    yielded = "ftops.__version__"
                yield node.lineno, yielded


def _inside(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(layer: str, root: Path = PACKAGE.parent) -> list[str]:
    found: list[str] = []
    for path in sorted((root / layer.replace(".", "/")).rglob("*.py")):
        for line, name in _imports(path, root):
            if not _inside(name, "ftops"):
                continue
            where = f"{path.relative_to(root).as_posix()}:{line} imports {name}"
            if layer in FORBIDDEN and any(_inside(name, bad) for bad in FORBIDDEN[layer]):
                found.append(where)
            if layer in ALLOWED and not any(_inside(name, ok) for ok in ALLOWED[layer]):
                found.append(where)
    return found


@pytest.mark.parametrize("layer", sorted({*FORBIDDEN, *ALLOWED}))
def test_layer_imports_stay_inside_their_bounds(layer: str) -> None:
    assert violations(layer) == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    # The walker must find an import hidden in a function body, or the check above could never fail.
    (tmp_path / "ftops" / "apply").mkdir(parents=True)
    (tmp_path / "ftops" / "cli").mkdir()
    (tmp_path / "ftops" / "cli" / "ops.py").write_text("")
    probe = tmp_path / "ftops" / "apply" / "_layering_probe.py"
    probe.write_text("def f() -> None:\n    from ftops.render.text import render_text\n    from ..cli import ops\n")
    found = violations("ftops.apply", root=tmp_path)
    assert "ftops/apply/_layering_probe.py:2 imports ftops.render.text" in found
    assert "ftops/apply/_layering_probe.py:3 imports ftops.cli.ops" in found
