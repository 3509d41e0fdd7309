"""Errors raised at simlib's boundaries.

Every error a user can cause with a bad file carries the file, the field path (or line) and what
is wrong, and renders as one line: the CLI prints ``str(error)`` and exits with code 2.
"""

from __future__ import annotations

import re

#: Longest value quoted inside a message, and longest rendered error line.
MAX_QUOTED = 80
MAX_LINE = 300

# C0/C1 controls (newlines, ANSI escapes), line/paragraph separators, bidi controls, and lone
# surrogates (undecodable argv bytes), which cannot even be printed as UTF-8.
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def escape_controls(text: str) -> str:
    r"""Control characters (newlines, ANSI escapes, ...) as visible escapes: ``\n``, ``\x1b``."""

    def sub(m: re.Match[str]) -> str:
        ch = m.group(0)
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (
            f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
        )

    return _CONTROL.sub(sub, text)


def clip(text: object, limit: int = MAX_QUOTED) -> str:
    """``text`` on one line, control characters escaped, at most ``limit`` characters."""
    s = escape_controls(str(text))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def one_line(text: object, limit: int = MAX_LINE) -> str:
    """A message as one bounded line (for anything printed after ``error:``)."""
    return clip(text, limit)


class ScenarioWarning(UserWarning):
    """Something in a scenario was read in a way the author may not expect."""


class SimlibError(Exception):
    """Base class for errors caused by bad input (never by a bug in simlib).

    ``str()`` is always one line; the CLI prints it after ``error:`` and exits with code 2.
    """


class ScenarioError(SimlibError, ValueError):
    """A scenario, sweep or curve file is invalid.

    ``source`` is the file (or ``"<scenario>"`` for in-memory dicts), ``where`` the dotted field
    path such as ``fleet.adoption.components[1].weight`` or ``line 3``.
    """

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [clip(self.source, 120), clip(self.where, 100)]
        head = ": ".join(p for p in parts if p)
        room = max(MAX_LINE - len(head) - 2, 80)
        return ": ".join(p for p in (head, clip(self.message, room)) if p)


class OutputError(SimlibError):
    """Results cannot be written where asked (unwritable folder, a file in the way, disk full)."""

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return one_line(f"{clip(self.path, 120)}: {self.message}")


def format_loc(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """Render a pydantic/location tuple as ``a.b[1].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
