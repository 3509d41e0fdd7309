"""Errors raised at simlib's boundaries: every public error class is defined here.

Every error a user can cause (a bad file, a wrong name, a missing tool) is a :class:`SimlibError`
that carries the file, the field path (or line) and what is wrong, and renders as one line: the
CLI prints ``str(error)`` and exits with code 2. The modules that raise them re-export them
(``from simlib.toolkit import ConfigError`` works), but this module is where they are documented.
A ``TypeError`` from a public call means a programming error (a wrong Python type passed in code),
never bad input.
"""

from __future__ import annotations

import os
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
    """A scenario, sweep, curve or cost file is invalid or missing, an override or preset name
    is unknown, or a public call got an argument value it cannot use (``simulate(mode=...)``,
    ``sweep(grid=...)``, ``calendar(today=...)``, a result's unknown strategy, host or day).

    ``source`` is the file (``"<scenario>"`` for in-memory dicts, ``"simulate()"`` for a call's
    argument, ``"<result>"``), ``where`` the dotted field path such as
    ``fleet.adoption.components[1].weight``, ``line 3`` or the argument's name.
    """

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        # source and where leave the message at least 80 characters of the MAX_LINE
        parts = [clip(self.source, 116), clip(self.where, 100)]
        head = ": ".join(p for p in parts if p)
        room = MAX_LINE - len(head) - 2
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


class InputFileError(SimlibError):
    """An input file cannot be read: missing, unreadable, a folder, a device or FIFO, too large.

    Raised by :func:`simlib._files.read_limited`; ``reason`` is the short cause (``is a folder,
    not a file``) that callers put in their own error, ``str()`` names the file too.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        return one_line(f"{clip(self.path, 120)}: {self.reason}")


class PkiInputError(SimlibError, ValueError):
    """A certificate or key file could not be used (missing, unreadable, too large, empty,
    truncated, or holding no certificate or key); raised by :mod:`simlib.pki` loading.
    ``str()`` is one line."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(str(path), message)
        self.path = str(path)
        # Messages may embed OS or library text; the CLI prints str() as one line.
        self.message = " ".join(str(message).split())

    def __str__(self) -> str:
        return f"{clip(self.path, 120)}: {clip(self.message, 160)}"


class PinError(SimlibError, ValueError):
    """A pin string is not a SHA-256 pin (not base64, not 32 bytes, a SHA-1 pin); raised by
    :func:`simlib.pki.parse_pin`. The message quotes the pin; callers that know the file or
    field (a scenario's backup pins, ``simlib emit --backup``) put it in front."""


class ConfigError(SimlibError, ValueError):
    """A pin config (NSC, Info.plist, TrustKit, OkHttp), chain, CA or fleet file, or a toolkit
    argument such as a host name or release date, cannot be used at all; raised by
    :mod:`simlib.toolkit`. Renders as one line.

    ``source`` is the file, ``where`` a location such as ``line 12`` or a key path such as
    ``NSAppTransportSecurity.NSPinnedDomains["api.example.com"]``.
    """

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = str(source)
        self.where = where
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        # Messages may embed parser text with newlines; the CLI prints exactly one line.
        return " ".join(": ".join([*parts, self.message]).split())


class EmitError(SimlibError, ValueError):
    """A strategy cannot be written for this chain or format (an unknown strategy or format, a
    chain without the CA it pins, a bad backup pin); raised by ``simlib.toolkit.emit`` and
    ``simlib emit`` (one line)."""


class SweepError(SimlibError, RuntimeError):
    """A sweep could not continue (a worker process died, Dask workers without simlib or with
    another version); raised by :func:`simlib.sweep` and ``simlib sweep``."""


class ReportError(SimlibError, ValueError):
    """A report page failed the final check before it is written (active content, a reference to
    elsewhere); raised by ``simlib.report.render`` (one line; nothing is written)."""


class NotebookError(SimlibError, RuntimeError):
    """A notebook is missing or unreadable, or failed to execute (``simlib.report.notebook``,
    ``simlib report``); the message names the notebook and the failing cell."""


class BrowserError(SimlibError, RuntimeError):
    """Headless Chromium is missing or failed (the report's PDF and screenshots,
    ``simlib.report.browser``); the message says how to install it or what went wrong."""


class UsageError(SimlibError):
    """Bad command-line arguments (``simlib.cli``: printed as one line, exit code 2)."""
