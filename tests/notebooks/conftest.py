from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

#: Test-sized variants of data/sweeps/sensitivity.yaml (Monte Carlo) and
#: data/sweeps/sensitivity-review.yaml (expected mode), a few seconds together.
SWEEPS = {
    "sweep": ROOT / "tests/fixtures/sweeps/sensitivity-small.yaml",
    "sweep_review": ROOT / "tests/fixtures/sweeps/sensitivity-review-small.yaml",
}


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory) -> dict[str, str]:
    """Placeholders for notebook parameters: ``{root}`` (the repository), ``{sweep}`` and
    ``{sweep_review}`` (stored sweeps made by the CLI, as a user would)."""
    env = {"root": str(ROOT)}
    folder = tmp_path_factory.mktemp("sweeps")
    for name, sweep_file in SWEEPS.items():
        out = folder / name
        subprocess.run(
            [
                sys.executable,
                "-m",
                "simlib.cli.main",
                "sweep",
                str(sweep_file),
                "--out",
                str(out),
                "--quiet",
            ],
            check=True,
            timeout=600,
        )
        env[name] = str(out)
    return env
