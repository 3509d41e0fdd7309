"""YAML for a terminal: strings from a scenario file cannot move the cursor or reorder text.

Every printed name goes through :func:`simlib.errors.escape_controls`; YAML needs more, since an
escape written into a plain or single-quoted scalar would change the value read back. Here such
strings are written double-quoted with YAML's own escapes (``\\u202E``, ``\\L``), so the text
stays valid YAML that reads back to the same data.
"""

from __future__ import annotations

from typing import Any

import yaml

from simlib.errors import escape_controls


def has_controls(text: str) -> bool:
    """True if ``text`` holds a character :func:`escape_controls` escapes (newlines aside)."""
    return any(escape_controls(line) != line for line in text.split("\n"))


def _unsafe(value: object) -> bool:
    return isinstance(value, str) and escape_controls(value) != value


class _EscapingDumper(yaml.SafeDumper):
    def choose_scalar_style(self) -> str:
        if _unsafe(self.event.value):
            return '"'
        return super().choose_scalar_style()

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not _unsafe(text):
            super().write_double_quoted(text, split)
            return
        # Without allow_unicode the emitter escapes everything outside printable ASCII: only
        # for the strings that need it, so other names keep their accents readable.
        saved, self.allow_unicode = self.allow_unicode, False
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = saved


def escaped_yaml(data: Any) -> str:
    """``data`` as block YAML (keys in order) whose strings print safely on a terminal."""
    return yaml.dump(data, Dumper=_EscapingDumper, sort_keys=False, allow_unicode=True)
