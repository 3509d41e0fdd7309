from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory) -> dict[str, str]:
    """Placeholders for notebook parameters; ``{sweep}`` is a stored sweep made by the CLI."""
    sweep = tmp_path_factory.mktemp("sweep") / "stored"
    subprocess.run(
        [sys.executable, "-m", "simlib.cli.main", "sweep", str(ROOT / "data/sweeps/lifetime-vs-update-speed.yaml"),
         "--out", str(sweep), "--quiet"],
        check=True, timeout=600,
    )
    return {"root": str(ROOT), "sweep": str(sweep)}
