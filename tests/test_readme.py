"""The README's Python example runs as written, from the repository root."""

from __future__ import annotations

import os
import re
import warnings

import matplotlib

from tests.conftest import ROOT


def test_python_example_runs(monkeypatch):
    matplotlib.use("Agg")
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert "simlib.simulate" in block and len(block.strip().splitlines()) <= 12
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["res"].summary.shape[0] == 8
    assert len(namespace["mc"].replications) == 200 * 8
    assert os.getcwd() == str(ROOT)
