"""simlib.errors: the one module of error classes, their bases, and one-line messages."""

from __future__ import annotations

import importlib
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simlib
from simlib import errors
from simlib.errors import (
    MAX_LINE,
    ConfigError,
    InputFileError,
    OutputError,
    PkiInputError,
    ScenarioError,
    SimlibError,
)

#: class -> the bases it must keep (callers catch ValueError / RuntimeError around them).
BASES = {
    "ScenarioError": (SimlibError, ValueError),
    "OutputError": (SimlibError,),
    "InputFileError": (SimlibError,),
    "PkiInputError": (SimlibError, ValueError),
    "PinError": (SimlibError, ValueError),
    "ConfigError": (SimlibError, ValueError),
    "EmitError": (SimlibError, ValueError),
    "SweepError": (SimlibError, RuntimeError),
    "ReportError": (SimlibError, ValueError),
    "NotebookError": (SimlibError, RuntimeError),
    "BrowserError": (SimlibError, RuntimeError),
    "UsageError": (SimlibError,),
}

#: old home -> the names it still offers (``from simlib.toolkit.policy import ConfigError``).
OLD_HOMES = {
    "simlib._files": ["InputFileError"],
    "simlib.pki": ["PkiInputError"],
    "simlib.pki.loading": ["PkiInputError"],
    "simlib.toolkit": ["ConfigError", "EmitError"],
    "simlib.toolkit.policy": ["ConfigError"],
    "simlib.toolkit.emit": ["EmitError"],
    "simlib.batch": ["SweepError"],
    "simlib.batch.executors": ["SweepError"],
    "simlib.batch.run": ["SweepError"],
    "simlib.report.html": ["ReportError"],
    "simlib.report.notebook": ["NotebookError"],
    "simlib.report.browser": ["BrowserError"],
    "simlib.cli.common": ["UsageError"],
    "simlib.model": ["ScenarioWarning"],
}


def _defined_here() -> dict[str, type]:
    return {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors.__name__
    }


def test_every_error_class_is_listed_with_its_bases():
    classes = _defined_here()
    assert set(classes) == {*BASES, "SimlibError", "ScenarioWarning"}
    for name, bases in BASES.items():
        assert classes[name].__bases__ == bases, name
    # every error a user can cause is a SimlibError; the warning is a warning
    assert issubclass(classes["ScenarioWarning"], UserWarning)


def test_every_error_class_says_when_it_is_raised():
    for name, cls in _defined_here().items():
        assert cls.__doc__ and len(cls.__doc__.split()) >= 8, f"{name} needs a docstring"


@pytest.mark.parametrize("module", sorted(OLD_HOMES))
def test_old_homes_offer_the_same_classes(module):
    mod = importlib.import_module(module)
    for name in OLD_HOMES[module]:
        assert getattr(mod, name) is getattr(errors, name), f"{module}.{name}"


def test_the_package_exports_the_errors_its_calls_raise():
    for name in ("SimlibError", "ScenarioError", "ScenarioWarning", "OutputError", "SweepError"):
        assert name in simlib.__all__ and getattr(simlib, name) is getattr(errors, name)


def test_the_architecture_doc_lists_every_class():
    from tests.test_architecture import DOC

    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    for name in _defined_here():
        assert f"`{name}`" in section, f"docs/architecture.md, Errors: no row for {name}"


# ------------------------------------------------------------------------- one line each
_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\n\r\t\x1b\u2028\u202e"), max_size=400
)


def _one_line(text: str) -> None:
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "\u2028" not in text and "\u202e" not in text


@given(path=_TEXT, reason=_TEXT)
def test_input_file_error_is_one_bounded_line_naming_the_file(path, reason):
    err = InputFileError(path, reason)
    _one_line(str(err))
    assert len(str(err)) <= MAX_LINE
    assert err.reason == " ".join(reason.split())  # callers embed the bare reason
    assert isinstance(err, SimlibError)


@given(path=_TEXT, message=_TEXT)
def test_pki_and_output_errors_are_one_line(path, message):
    for err in (PkiInputError(path, message), OutputError(path, message)):
        _one_line(str(err))
        assert len(str(err)) <= MAX_LINE


@given(source=_TEXT, where=_TEXT, message=_TEXT)
def test_scenario_and_config_errors_are_one_line(source, where, message):
    _one_line(str(ScenarioError(source, where, message)))
    assert len(str(ScenarioError(source, where, message))) <= MAX_LINE
    # ConfigError folds whitespace; the CLI escapes what else it prints (errors.one_line)
    assert "\n" not in str(ConfigError(source, where, message))


def test_input_file_error_from_read_limited_names_the_file(tmp_path):
    from simlib._files import read_limited

    with pytest.raises(InputFileError) as err:
        read_limited(tmp_path)
    assert err.value.reason == "is a folder, not a file"
    assert str(err.value) == f"{tmp_path}: is a folder, not a file"
    with pytest.raises(InputFileError, match="No such file"):
        read_limited(tmp_path / "missing.yaml")
