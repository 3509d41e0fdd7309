"""Escaping for the languages the writers emit.

Comments carry certificate subjects, which strangers choose: each output language gets its own
escaping, and control/bidi characters become visible escapes everywhere (XML 1.0 cannot hold C0
controls at all, and a newline would end a Kotlin line comment).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from simlib.errors import escape_controls


def xml_comment(text: str) -> str:
    """Text for inside an XML comment: escaped controls, no ``--``, markup escaped."""
    text = escape_controls(text)
    while "--" in text:  # "--" may not appear inside an XML comment ("---" needs two passes)
        text = text.replace("--", "- -")
    return escape(text)


def kotlin_comment(text: str) -> str:
    """Text for a Kotlin ``//`` comment: one line, no controls or bidi characters."""
    return escape_controls(text)


def _utf16(ch: str) -> list[int]:
    b = ch.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(b[i : i + 2], "big") for i in range(0, len(b), 2)]


def kotlin_string(text: str) -> str:
    """A Kotlin string literal's content: quotes, backslashes, ``$`` templates and anything
    outside printable ASCII escaped."""
    out = []
    for ch in text:
        if ch in '"\\$':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\u{u:04x}" for u in _utf16(ch))
    return "".join(out)
