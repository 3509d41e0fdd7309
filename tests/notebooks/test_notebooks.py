"""Every notebook runs top to bottom under papermill (explicit kernel and timeouts) with at least
two scenarios, without an error, a warning or a traceback in its outputs; stored notebooks carry
no outputs and start with a ``parameters`` cell."""

from __future__ import annotations

import json

import pytest

from simlib.report.notebook import execute
from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 300
NOISE = ("Traceback", "Warning", "IProgress not found", "Error")


def _fill(value: object, env: dict[str, str]) -> object:
    return value.format(**env) if isinstance(value, str) else value


def _stored() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _cases() -> dict[str, list[dict[str, object]]]:
    """Each notebook lists its own test runs in its metadata (``simlib.test_parameters``).

    Values may contain ``{root}`` (the repository) and ``{sweep}`` (a stored sweep that
    ``conftest.py`` makes once per session with ``simlib sweep``, as a user would).
    """
    return {
        name: json.loads((NOTEBOOKS / name).read_text())["metadata"]
        .get("simlib", {})
        .get("test_parameters", [])
        for name in _stored()
    }


CASES = _cases()


def test_every_notebook_runs_with_two_parameter_sets():
    for name, cases in CASES.items():
        assert len(cases) >= 2, (
            f"{name}: list two parameter sets in metadata simlib.test_parameters"
        )
        assert len({json.dumps(c, sort_keys=True) for c in cases}) == len(cases), name


@pytest.mark.parametrize("name", _stored())
def test_stored_notebook_is_clean(name):
    nb = json.loads((NOTEBOOKS / name).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), (
        f"{name}: first code cell not tagged parameters"
    )
    for cell in code:
        assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
            f"{name}: outputs in git"
        )
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def _outputs(path) -> list[dict]:
    nb = json.loads(path.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "params"),
    [(n, p) for n, cases in CASES.items() for p in cases],
    ids=[f"{n}-{i}" for n, cases in CASES.items() for i in range(len(cases))],
)
def test_notebook_runs(name, params, tmp_path, notebook_env):
    filled = {k: _fill(v, notebook_env) for k, v in params.items()}
    out = execute(NOTEBOOKS / name, tmp_path / name, filled, cell_timeout=CELL_TIMEOUT)
    outputs = _outputs(out)
    assert not [o for o in outputs if o["output_type"] == "error"]
    noisy = [
        "".join(o["text"])
        for o in outputs
        if o["output_type"] == "stream"
        and o["name"] == "stderr"
        and any(word in "".join(o["text"]) for word in NOISE)
    ]
    assert not noisy, noisy
    assert any(o.get("data", {}).get("image/png") for o in outputs), f"{name}: no figure"
