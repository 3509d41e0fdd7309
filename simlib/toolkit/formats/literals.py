"""A bounded scanner for the literals of app source: Swift, Objective-C, Kotlin, Java, JS/TS.

Pin configs are often written in code: a TrustKit dictionary in Swift or Objective-C, an
``initializeSslPinning({...})`` call in JavaScript, ``CertificatePinner.Builder().add(HOST,
PIN)`` in Kotlin. This module reads them without regular-expression backtracking: the tokenizer
moves forward only (each expression it uses is one run with nothing after it to backtrack
into), and the value reader is a recursive descent over tokens, nested at most
:data:`MAX_NEST` deep, that spends at most :data:`MAX_TOKENS` tokens in all, so hostile input
costs time linear in its size (same-file constants included: the tokens read are bounded by
twice the file's, however often a constant is used).

Only literals are evaluated: strings (with ``+`` concatenation), numbers, Booleans
(``true``/``YES``/``@YES``), dictionaries (``[k: v]``, ``@{k: v}``, ``{k: v}``), arrays and
same-file string constants (``let``/``val``/``const val``/``static final String``/``const X =``).
Anything else is an :class:`Unresolved` value naming the expression, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from simlib.errors import clip
from simlib.toolkit.policy import ConfigError

MAX_TOKENS = 2_000_000
#: Largest source file scanned (characters): a file that configures pins is a few KB, and the
#: scanner costs about a second per megabyte of hostile text.
MAX_SOURCE_CHARS = 2_000_000
MAX_NEST = 64
# One alternation, each branch a single run with nothing after it to backtrack into (an
# unclosed comment or string simply runs to the end of the file or line): the scanner moves
# forward only, one match per token.
_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\f\v\n]+)"
    r"|(?P<lc>//[^\n]*)"
    r"|(?P<bc>/\*(?:[^*]|\*(?!/))*(?:\*/)?)"
    r'|(?P<raw>"""(?:[^"]|"(?!""))*(?P<rawe>""")?)'
    r'|(?P<dq>"(?:[^"\\\n]|\\.)*(?P<dqe>")?)'
    r"|(?P<sq>'(?:[^'\\\n]|\\.)*(?P<sqe>')?)"
    r"|(?P<bq>`(?:[^`\\]|\\.)*(?P<bqe>`)?)"
    r"|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<num>[0-9][0-9A-Za-z_.]*)"
    r"|(?P<p>.)",
    re.S,
)
_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_TRUE = frozenset({"true", "YES", "TRUE"})
_FALSE = frozenset({"false", "NO", "FALSE"})
_TEMPLATE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_.]*)\}?")


class Tok(NamedTuple):
    kind: str  # str | name | num | punct | bad (an unclosed string)
    text: str
    line: int
    quote: str = ""  # a string's opening quote: ", ', ` or """


_tok = tuple.__new__  # a Tok without NamedTuple's Python-level __new__: tokens are many


@dataclass(frozen=True)
class Unresolved:
    """An expression that is not a literal nor a same-file constant (e.g. ``BuildConfig.PIN``)."""

    expression: str
    line: int

    def __str__(self) -> str:
        return self.expression


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), body)


def tokenize(text: str, source: str) -> list[Tok]:
    """Tokens of ``text``, comments and whitespace skipped; linear in its length."""
    if len(text) > MAX_SOURCE_CHARS:
        raise ConfigError(
            source,
            "",
            f"a source file of {len(text):,} characters (at most {MAX_SOURCE_CHARS:,} are "
            "scanned): give the file that holds the pin configuration",
        )
    out: list[Tok] = []
    line = 1
    append = out.append
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "p" or kind == "name" or kind == "num":
            append(_tok(Tok, ("punct" if kind == "p" else kind, m[0], line, "")))
            continue
        start, end = m.span()
        if kind == "raw":
            closed = m["rawe"] is not None
            body = text[start + 3 : end - 3 if closed else end]
            append(_tok(Tok, ("str" if closed else "bad", body, line, '"""')))
        elif kind in ("dq", "sq", "bq"):
            closed = m[kind + "e"] is not None
            body = _unescape(text[start + 1 : end - 1 if closed else end])
            append(_tok(Tok, ("str" if closed else "bad", body, line, text[start])))
        if kind != "lc":
            line += text.count("\n", start, end)
        if len(out) > MAX_TOKENS:
            raise ConfigError(source, f"line {line}", f"more than {MAX_TOKENS:,} tokens")
    return out


def is_punct(toks: list[Tok], i: int, text: str) -> bool:
    return 0 <= i < len(toks) and toks[i].kind == "punct" and toks[i].text == text


def dotted(toks: list[Tok], i: int) -> tuple[str, int]:
    """``a.b.c`` starting at name token ``i``, and the index after it."""
    parts = [toks[i].text]
    j = i + 1
    while is_punct(toks, j, ".") and j + 1 < len(toks) and toks[j + 1].kind == "name":
        parts.append(toks[j + 1].text)
        j += 2
    return ".".join(parts), j


def constants(toks: list[Tok]) -> tuple[dict[str, str], dict[str, int]]:
    """Same-file constants: ``(name → string, name → index of a dictionary literal)``.

    ``NAME = "…"`` in any of the languages (``let``, ``val``, ``const val``, ``static final
    String``, ``NSString *const``, ``const``), with a type annotation (``NAME: String = "…"``)
    allowed. A name given two different values is left out: which one applies is not known
    without compiling.
    """
    strings: dict[str, str | None] = {}
    tables: dict[str, int] = {}
    for k, tok in enumerate(toks):
        if tok.kind != "punct" or tok.text != "=" or k == 0:
            continue
        if is_punct(toks, k + 1, "=") or toks[k - 1].text in ("=", "!", "<", ">", "+", "-"):
            continue
        j = k - 1
        if toks[j].kind != "name" or is_punct(toks, j - 1, ":"):
            # NAME: Type = / NAME: [String] = : the name before the nearest ':' (a few back)
            colon = next((c for c in range(k - 1, max(k - 9, 0), -1) if is_punct(toks, c, ":")), 0)
            j = colon - 1 if colon else -1
        if j < 0 or toks[j].kind != "name":
            continue
        name = toks[j].text
        v = k + 1 + int(is_punct(toks, k + 1, "@"))
        if v < len(toks) and toks[v].kind == "str" and not is_punct(toks, v + 1, "+"):
            if name in strings and strings[name] != toks[v].text:
                strings[name] = None
            else:
                strings.setdefault(name, toks[v].text)
        elif v < len(toks) and toks[v].kind == "punct" and toks[v].text in "{[":
            tables.setdefault(name, v)
    return {k: v for k, v in strings.items() if v is not None}, tables


class Reader:
    """Evaluates literal values from a token list; one instance per file (a shared budget)."""

    def __init__(self, toks: list[Tok], source: str, *, templates: bool = False) -> None:
        self.toks = toks
        self.source = source
        self.strings, self.tables = constants(toks)
        self.templates = templates  # Kotlin "$NAME" and JS `${NAME}` in strings
        # Constants may name tables that name tables: reading is bounded by the file's size
        # (each token read about twice at most), not by what the references expand to.
        self.budget = 2 * len(toks) + 1000
        self.furthest = 0  # the furthest token read: a caller scanning for calls resumes there
        self._following: set[str] = set()

    def fail(self, i: int, message: str) -> ConfigError:
        line = self.toks[min(i, len(self.toks) - 1)].line if self.toks else 1
        return ConfigError(self.source, f"line {line}", message)

    def _spend(self, i: int) -> None:
        self.furthest = max(self.furthest, i)
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(
                i, "constants expand to more than twice the file's tokens; a pin config is small"
            )

    def resolve_name(self, name: str, line: int) -> object:
        """A constant's value: the last segment of ``Obj.NAME`` counts when it is unique."""
        for key in (name, name.rsplit(".", 1)[-1]):
            if key in self.strings:
                return self._template(self.strings[key], line)
        return Unresolved(name, line)

    def _template(self, text: str, line: int) -> object:
        if not self.templates or "$" not in text:
            return text
        missing: list[str] = []

        def sub(m: re.Match[str]) -> str:
            value = self.strings.get(m[1]) or self.strings.get(m[1].rsplit(".", 1)[-1])
            if value is None:
                missing.append(m[0])
                return m[0]
            return value

        out = _TEMPLATE.sub(sub, text)  # one pass, no backtracking beyond a name
        return Unresolved(f'"{clip(text, 60)}"', line) if missing else out

    def value(self, i: int, depth: int = 0) -> tuple[object, int]:
        """The value starting at token ``i`` and the index after it."""
        if depth > MAX_NEST:
            raise self.fail(
                i, f"literals nested more than {MAX_NEST} deep; a pin config nests a few"
            )
        left, i = self._term(i, depth)
        while is_punct(self.toks, i, "+"):
            right, i = self._term(i + 1, depth)
            if isinstance(left, str) and isinstance(right, str):
                left = left + right
            else:
                left = left if isinstance(left, Unresolved) else right
                if not isinstance(left, Unresolved):
                    left = Unresolved("a concatenation", self.toks[i - 1].line)
        return left, i

    def _term(self, i: int, depth: int) -> tuple[object, int]:
        toks = self.toks
        self._spend(i)
        if i >= len(toks):
            raise self.fail(i, "the file ends inside a literal")
        if is_punct(toks, i, "@"):  # Objective-C literal prefix: @"…", @{…}, @[…], @YES, @(…)
            i += 1
            if i >= len(toks):
                raise self.fail(i, "the file ends inside a literal")
        tok = toks[i]
        if tok.kind == "str":
            return self._template(tok.text, tok.line), i + 1
        if tok.kind == "bad":
            raise self.fail(i, "unclosed string literal")
        if tok.kind == "num":
            return (
                int(tok.text)
                if tok.text.isascii() and tok.text.isdigit() and len(tok.text) < 19
                else tok.text
            ), i + 1
        if tok.kind == "name":
            name, j = dotted(toks, i)
            if name in _TRUE:
                return True, j
            if name in _FALSE:
                return False, j
            if is_punct(toks, j, "(") or is_punct(toks, j, "?"):
                return self._expression(name, j, tok.line)
            if name in self.tables and name not in self._following:
                self._following.add(name)  # a table that refers to itself is not followed
                try:
                    return self.value(self.tables[name], depth + 1)[0], j
                finally:
                    self._following.discard(name)
            return self.resolve_name(name, tok.line), j
        if tok.text == "(":
            inner, j = self.value(i + 1, depth + 1)
            if not is_punct(toks, j, ")"):
                raise self.fail(j, "expected ')'")
            return inner, j + 1
        if tok.text == "{":  # JS object (names are keys) or Objective-C @{…} (expressions)
            return self._mapping(
                i + 1, "}", depth, names_are_keys=i == 0 or toks[i - 1].text != "@"
            )
        if tok.text == "[":
            return self._bracket(i + 1, depth)
        raise self.fail(i, f"unexpected {tok.text!r} where a literal value was expected")

    def _expression(self, name: str, j: int, line: int) -> tuple[Unresolved, int]:
        """A call chain (``NSNumber(value: true)``, ``text.trim().split('\\n')``, ``a?.b``):
        never evaluated, only named, and skipped to its end."""
        toks = self.toks
        while True:
            if is_punct(toks, j, "("):
                j = self._skip_group(j)
                name += "(…)"
            elif is_punct(toks, j, "?") and is_punct(toks, j + 1, "."):
                j += 1
            elif is_punct(toks, j, ".") and j + 1 < len(toks) and toks[j + 1].kind == "name":
                name += "." + toks[j + 1].text
                j += 2
            else:
                return Unresolved(name, line), j

    def _skip_group(self, i: int) -> int:
        """Index after the parenthesised group opening at ``i`` (bounded by the budget)."""
        level = 0
        while i < len(self.toks):
            self._spend(i)
            t = self.toks[i]
            if t.kind == "punct" and t.text in "([{":
                level += 1
            elif t.kind == "punct" and t.text in ")]}":
                level -= 1
                if level == 0:
                    return i + 1
            i += 1
        raise self.fail(i, "the file ends inside a call")

    def _key(self, i: int, names_are_keys: bool) -> tuple[str, int]:
        tok = self.toks[i] if i < len(self.toks) else None
        if tok is not None and is_punct(self.toks, i, "@"):
            i += 1
            tok = self.toks[i] if i < len(self.toks) else None
        if tok is not None and tok.kind == "str":
            return tok.text, i + 1
        if tok is not None and tok.kind == "name":
            name, j = dotted(self.toks, i)
            if names_are_keys:  # a JS property name is the key itself, never a variable
                return name, j
            value = self.resolve_name(name, tok.line)
            # A constant's value, else the name: TrustKit's kTSK… constants stand for their
            # own text (kTSKPinnedDomains = "TSKPinnedDomains"), which the parser accepts.
            return (value if isinstance(value, str) else name), j
        if tok is not None and tok.kind == "num":
            return tok.text, i + 1
        if tok is not None and names_are_keys and tok.text == "[":  # JS computed key [expr]
            value, j = self.value(i + 1, 1)
            if not is_punct(self.toks, j, "]"):
                raise self.fail(j, "expected ']' after a computed key")
            if not isinstance(value, str):
                raise self.fail(i, f"the key [{value}] is not a literal or a constant of this file")
            return value, j + 1
        raise self.fail(i, "expected a dictionary key")

    def _mapping(
        self, i: int, close: str, depth: int, *, names_are_keys: bool = False
    ) -> tuple[dict[str, object], int]:
        out: dict[str, object] = {}
        while True:
            if is_punct(self.toks, i, close):
                return out, i + 1
            key, i = self._key(i, names_are_keys)
            if not is_punct(self.toks, i, ":"):
                raise self.fail(i, f"expected ':' after key {clip(key, 40)!r}")
            out[key], i = self.value(i + 1, depth + 1)
            if is_punct(self.toks, i, ","):
                i += 1
            elif not is_punct(self.toks, i, close):
                raise self.fail(i, f"expected ',' or {close!r} in a dictionary literal")

    def _bracket(self, i: int, depth: int) -> tuple[object, int]:
        """Swift ``[k: v]`` / ``[:]`` dictionaries and every language's ``[a, b]`` arrays."""
        if is_punct(self.toks, i, ":") and is_punct(self.toks, i + 1, "]"):
            return {}, i + 2
        if is_punct(self.toks, i, "]"):
            return [], i + 1
        first, j = self.value(i, depth + 1)
        if is_punct(self.toks, j, ":"):  # a Swift dictionary: re-read from its first key
            return self._mapping(i, "]", depth)
        items = [first]
        while True:
            if is_punct(self.toks, j, ","):
                j += 1
            if is_punct(self.toks, j, "]"):
                return items, j + 1
            if j >= len(self.toks):
                raise self.fail(j, "the file ends inside an array literal")
            item, j = self.value(j, depth + 1)
            items.append(item)


def find_unresolved(value: object) -> Unresolved | None:
    """The first :class:`Unresolved` inside ``value`` (depth-first, bounded by MAX_NEST)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None
