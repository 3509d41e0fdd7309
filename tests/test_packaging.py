"""Packaging contract: pyproject is the source of truth; environment.yml agrees with it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

import simlib
from tests.conftest import ROOT

CONDA_NAMES = {"pyyaml": "pyyaml"}  # pip name -> conda-forge name where they differ


def _req(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(>=\s*[\d.]+)?", spec)
    assert m, spec
    name = re.sub(r"\[.*\]", "", m.group(1)).lower()
    return name, (m.group(2) or "").replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_req(d) for d in env["dependencies"] if isinstance(d, str))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.startswith("-e .") for line in pip_section)
    assert conda.pop("python") == project["requires-python"]
    assert "pip" in conda and conda.pop("pip") == ""
    wanted = dict(_req(d) for d in project["dependencies"])
    wanted |= dict(_req(d) for d in project["optional-dependencies"]["dask"])
    assert {CONDA_NAMES.get(k, k): v for k, v in wanted.items()} == conda


def test_core_dependencies_of_the_product_card():
    names = {_req(d)[0] for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {"pandas", "numpy", "matplotlib", "jupyterlab", "cryptography"} <= names


def test_public_namespace():
    for name in simlib.__all__:
        assert getattr(simlib, name) is not None
    assert simlib.__version__


def test_import_is_light():
    code = "import sys, simlib; print('distributed' in sys.modules, 'simlib.batch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_project_never_reads_shared():
    offenders = []
    for path in [*ROOT.glob("simlib/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("notebooks/*.ipynb"),
                 *ROOT.glob("benchmarks/*.py"), *ROOT.glob("data/**/*.yaml"), ROOT / "Makefile"]:
        text = path.read_text(errors="ignore")
        if path.name == "test_packaging.py":
            continue
        if re.search(r"\.\./shared|shared/(data|reference)", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_importing_plots_leaves_the_matplotlib_backend_alone():
    """A library must not switch the backend at import (it hid every figure in notebooks)."""
    code = (
        "import matplotlib; matplotlib.use('svg'); import simlib.report.plots, simlib.report.markdown; "
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"
