"""Packaging contract: pyproject is the source of truth; environment.yml agrees with it."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
    names = {
        _req(d)[0]
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    assert {"pandas", "numpy", "matplotlib", "jupyterlab", "cryptography"} <= names


def test_public_namespace():
    for name in simlib.__all__:
        assert getattr(simlib, name) is not None
    assert simlib.__version__


def test_import_is_light():
    code = "import sys, simlib; print('distributed' in sys.modules, 'simlib.batch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_project_never_reads_shared():
    offenders = []
    for path in [
        *ROOT.glob("simlib/**/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("notebooks/*.ipynb"),
        *ROOT.glob("benchmarks/*.py"),
        *ROOT.glob("data/**/*.yaml"),
        *ROOT.glob("simlib/_data/**/*.yaml"),
        ROOT / "Makefile",
    ]:
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
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "svg"


#: Real-world data that ships inside the package; the checkout's data/<name> links to it.
PACKAGED_DATA = ("world", "certs", "presets")


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_checkout_data_folders_are_the_packaged_data():
    """The files live once, in simlib/_data/; data/world, data/certs and data/presets are relative
    symbolic links to them (git stores links), so tests, notebooks and users keep their paths."""
    for name in PACKAGED_DATA:
        top, packaged = ROOT / "data" / name, ROOT / "simlib" / "_data" / name
        assert top.is_symlink(), f"data/{name} must be a symbolic link to simlib/_data/{name}"
        assert not os.path.isabs(os.readlink(top)) and top.resolve() == packaged.resolve(), name
        assert _files(packaged) and _files(top) == _files(packaged), name
    for name in ("scenarios", "sweeps"):  # users' examples stay outside the package
        assert (ROOT / "data" / name).is_dir() and not (ROOT / "data" / name).is_symlink()


def test_package_data_patterns_cover_every_packaged_file():
    """setuptools globs package-data relative to the package (``*`` stays within one folder)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["simlib"]
    package = ROOT / "simlib"
    matched = {Path(m).as_posix() for pat in patterns for m in glob.glob(pat, root_dir=package)}
    shipped = {
        p.relative_to(package).as_posix() for p in (package / "_data").rglob("*") if p.is_file()
    }
    assert shipped and shipped - matched == set()


def test_simlib_never_reads_outside_its_package():
    """No module finds files relative to the source tree (``data/`` beside the package)."""
    pattern = re.compile(r"__file__.*(parents\[|\.parent\.parent)|/ \"data\"|\"\.\./data")
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("simlib/**/*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == []


def test_stored_notebooks_are_output_free_and_the_hook_keeps_them_so():
    """Every stored notebook (notebooks/ and the report template) has no outputs, and the
    pre-commit hook (nbstripout, keeping cell ids) covers each of them."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (hook,) = [
        h
        for r in config["repos"]
        if r["repo"] == "https://github.com/kynan/nbstripout"
        for h in r["hooks"]
    ]
    assert hook["id"] == "nbstripout" and "--keep-id" in hook.get("args", [])
    stored = sorted(
        [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("simlib/report/templates/*.ipynb")]
    )
    assert len(stored) >= 7
    for path in stored:
        name = path.relative_to(ROOT).as_posix()
        assert re.search(hook.get("files", ""), name), f"{name}: not covered by the nbstripout hook"
        cells = json.loads(path.read_text())["cells"]
        for cell in (c for c in cells if c["cell_type"] == "code"):
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{name}: outputs stored"
            )
