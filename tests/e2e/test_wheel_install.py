"""ftops installs from the files a release publishes: sdist → wheel → a fresh venv → ``ftops init`` works.

What the release workflow does, CI-sized: build the sdist and the wheel FROM THE SDIST (so a template missing
from the sdist fails here), ``twine check --strict`` both, install the built wheel file into a fresh venv and
run the installed ``ftops`` (not the source tree) there. For speed the fresh venv borrows the already
installed dependencies (a path entry after its own site-packages) instead of downloading them again; the
test checks that every ``Requires-Dist`` of the built wheel is satisfied there. The release workflow does the
full install with dependencies from PyPI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from ftops import __version__
from ftops.scaffold import TEMPLATES

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path = Path("/"), timeout: float = 180) -> str:
    """Run outside the source tree (``python -c`` puts the cwd first on sys.path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FTOPS_", "VIRTUAL_ENV"))}
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist + wheel built from a copy of the sources (the worktree stays free of build/ and egg-info)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "ftops", src / "ftops", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--skip-dependency-check", "--outdir", out, src)
    return out


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [f"ftops-{__version__}-py3-none-any.whl", f"ftops-{__version__}.tar.gz"]
    out = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert out.count("PASSED") == 2


def test_the_wheel_carries_the_scaffold_and_the_command(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"ftops-{__version__}.dist-info/entry_points.txt").decode()
    for src, _ in TEMPLATES:
        assert f"ftops/scaffold/templates/{src}" in names
    assert "ftops/py.typed" in names and "ftops = ftops.__main__:main" in entry_points


def test_the_built_wheel_installs_into_a_fresh_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # Dependencies from this environment, AFTER the fresh site-packages: the installed wheel's ftops wins.
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = _run(python, "-c", "import ftops; print(ftops.__file__)").strip()
    assert where.startswith(str(site)), f"ftops imported from {where}, not from the installed wheel"
    missing = _run(python, "-c", (
        "from importlib.metadata import requires, version; from packaging.requirements import Requirement\n"
        "for text in requires('ftops') or []:\n"
        "    r = Requirement(text)\n"
        "    if r.marker and not r.marker.evaluate({'extra': ''}): continue\n"
        "    if not r.specifier.contains(version(r.name), prereleases=True): print(r)\n"))
    assert missing == "", f"the wheel's requirements are not met: {missing}"

    ftops = venv / "bin" / "ftops"
    assert _run(ftops, "--version").strip() == f"ftops, version {__version__}"
    project = tmp_path / "project"
    assert "Next steps" in _run(ftops, "init", project)
    workflow = (project / ".github" / "workflows" / "ftops.yml").read_text()
    assert f"FTOPS_PACKAGE: ftops=={__version__}" in workflow
    assert "Valid: 2 files" in _run(ftops, "-C", project, "validate")
