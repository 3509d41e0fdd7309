"""The toolkit's public API: cheap to import, one entry point per task."""

from __future__ import annotations

import subprocess
import sys

import simlib.toolkit as tk
from simlib.errors import SimlibError


def test_import_is_lazy():
    code = (
        "import sys, simlib.toolkit; "
        "print(any(m in sys.modules for m in ('simlib.toolkit.audit', 'simlib.toolkit.emit', "
        "'defusedxml', 'plistlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_names():
    for name in tk.__all__:
        assert getattr(tk, name) is not None
    assert issubclass(tk.ConfigError, SimlibError) and issubclass(tk.EmitError, SimlibError)


def test_config_error_is_one_line():
    err = tk.ConfigError("a.xml", "line 3", "bad\nthing")
    assert str(err) == "a.xml: line 3: bad thing"
    assert str(tk.ConfigError("a.xml", "", "empty file")) == "a.xml: empty file"


def test_public_functions_survive_their_submodules_loading():
    import importlib

    import simlib.toolkit as toolkit

    importlib.import_module("simlib.toolkit.audit")
    importlib.import_module("simlib.toolkit.emit")
    assert callable(toolkit.audit) and callable(toolkit.emit)
    assert toolkit.audit.__module__ == toolkit.emit.__module__ == "simlib.toolkit"
