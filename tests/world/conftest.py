"""Fixtures for the real-world data tests: a writable copy of data/world."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Repo-relative on purpose: tests read only the project's own copies. data/world and data/certs
# are symbolic links into the package (simlib/_data/); resolved, they are the files simlib reads.
WORLD_DIR = (Path(__file__).resolve().parents[2] / "data" / "world").resolve()
CERTS_DIR = (Path(__file__).resolve().parents[2] / "data" / "certs").resolve()


@pytest.fixture
def world_copy(tmp_path: Path) -> Path:
    """A copy of data/world that a test may break."""
    target = tmp_path / "world"
    shutil.copytree(WORLD_DIR, target)
    return target
