"""Reading scenario and sweep YAML: files within bounds, parsed by the hardened loader
(:mod:`simlib.model.yamlloader`: its rules and limits), every problem one line.

:func:`read_yaml_file` reads only regular files, at most :data:`MAX_BYTES` (``/dev/zero``, FIFOs
and folders are refused without reading or blocking), and refuses text that is not UTF-8 and
control characters YAML does not allow; :func:`parse_yaml` applies the loader's rules to text.
Every problem raises :class:`~simlib.errors.ScenarioError` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from simlib._files import MAX_INPUT_BYTES, InputFileError, read_limited
from simlib.errors import ScenarioError, clip
from simlib.model.yamlloader import MAX_DEPTH, SURROGATE, load_yaml, surrogate_message

MAX_BYTES = MAX_INPUT_BYTES


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text with the hardened rules; errors are one-line ScenarioErrors."""
    m = SURROGATE.search(text)
    if m is not None:  # only in text given directly: a file is decoded strictly from UTF-8
        line = f"line {text.count(chr(10), 0, m.start()) + 1}"
        raise ScenarioError(source, line, f"invalid YAML: {surrogate_message(m.group(0))}")
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        exc._text = text  # type: ignore[attr-defined]  # for the line of a bad character
        raise _yaml_error(exc, source) from None
    except RecursionError:
        raise ScenarioError(
            source, "", f"invalid YAML: nested deeper than {MAX_DEPTH} levels"
        ) from None


def _yaml_error(exc: yaml.YAMLError, source: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        line = text_line(exc)
        return ScenarioError(
            source, line, f"not a YAML text file: character U+{ord(char):04X} is not allowed"
        )
    where = f"line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc) or "invalid YAML"
    if isinstance(exc, ComposerError) and "found duplicate anchor" in str(exc.context or ""):
        problem = "duplicate anchor"
    return ScenarioError(source, where, f"invalid YAML: {clip(problem, 160)}")


def text_line(exc: yaml.reader.ReaderError) -> str:
    buffer = getattr(exc, "_text", None)
    return f"line {buffer[: exc.position].count(chr(10)) + 1}" if buffer is not None else ""


def read_text_file(path: str | Path, what: str = "file", limit: int = MAX_BYTES) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes; anything else is a one-line error.

    See :func:`simlib._files.read_limited`: a FIFO, a device such as ``/dev/zero`` or a folder
    never blocks or reads forever.
    """
    shown = str(path)
    try:
        data = read_limited(path, limit)
    except InputFileError as exc:
        raise ScenarioError(shown, "", f"cannot read {what}: {exc.reason}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            shown,
            f"line {line}",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8",
        ) from None


def read_yaml_file(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file with every rule of this module."""
    text = read_text_file(path, what)
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_yaml(text, str(path))
