"""The hardened YAML loader: the rules that make reading a stranger's YAML file safe.

``yaml.safe_load`` alone is not enough for files from strangers. :func:`load_yaml` also

* refuses duplicate keys in a mapping (YAML says keys are unique; PyYAML keeps the last silently);
* bounds nesting depth (:data:`MAX_DEPTH`), the values written in the file (:data:`MAX_VALUES`,
  counted while composing, so a 2-million-element list is refused after 100 000 of them), alias
  uses (:data:`MAX_ALIASES`) and the size of the document with every alias expanded
  (:data:`MAX_NODES`), so an alias bomb ("billion laughs") is refused before anything expands it;
  recursive aliases are refused;
* keeps timestamps as strings, so an impossible date such as ``2025-13-01`` reaches validation
  (which names the field) instead of failing inside the YAML reader;
* only builds plain data: ``!!python/...`` tags are refused as by ``safe_load``, and so are
  ``!!binary``, ``!!set``, ``!!omap`` and ``!!pairs`` (no simlib field holds bytes, sets or pairs),
  strings holding a lone surrogate (``"\\ud800"``: not text; it fails when printed) and integers
  of more than :data:`MAX_DIGITS` digits.

Speed: the events come from libyaml (PyYAML's C parser) when it is installed, about five times
faster than PyYAML's pure-Python scanner; composing and constructing stay in Python, so every rule
above is the same code on both paths. libyaml's syntax errors are terse, so a file it refuses is
read again by the pure-Python parser for PyYAML's message (files up to :data:`REREAD_BYTES`).

A refusal is a ``yaml.YAMLError`` with a mark (the line); :mod:`simlib.model.yamlio` reads files
and turns every refusal into a one-line :class:`~simlib.errors.ScenarioError`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:  # libyaml, when PyYAML was built with it (the wheels are)
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was installed
    CParser = None

from simlib.errors import clip

MAX_DEPTH = 64
MAX_ALIASES = 10_000
MAX_NODES = 1_000_000
#: Values (scalars, lists and mappings, keys included) written in one file. A scenario holds a
#: few hundred, a large sweep grid a few ten thousand.
MAX_VALUES = 100_000
#: Longest integer (digits): Python refuses to read more than 4 300; no simlib field needs 20.
MAX_DIGITS = 100
#: A file libyaml refuses is re-read by PyYAML for its clearer message up to this size (about a
#: second of pure-Python parsing at most).
REREAD_BYTES = 256 * 1024

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Tags SafeLoader builds that no simlib field can hold.
_NOT_PLAIN = {
    "tag:yaml.org,2002:binary": "!!binary (no simlib field holds bytes)",
    "tag:yaml.org,2002:set": "!!set (write a list)",
    "tag:yaml.org,2002:omap": "!!omap (write a mapping)",
    "tag:yaml.org,2002:pairs": "!!pairs (write a mapping)",
}


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, node_or_mark: Any) -> None:
        super().__init__(message)
        self.problem = message
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        self.problem_mark = mark


class _Open:
    """A list or mapping being composed: where it starts, the key or index it sits under, and
    how many values were composed directly inside it (keys and values of a mapping both count)."""

    __slots__ = ("children", "line", "mapping", "name")

    def __init__(self, line: int, name: str, mapping: bool) -> None:
        self.line, self.name, self.children, self.mapping = line, name, 0, mapping


class _Rules(SafeConstructor):
    """The rules of the module docstring, shared by the pure-Python and the libyaml loader."""

    def _start_rules(self) -> None:
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._open: list[_Open] = []

    # ------------------------------------------------------------------------- composing
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES:,} aliases", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._values += 1
        if self._open:
            self._open[-1].children += 1
        if self._values > MAX_VALUES:
            raise _Refused(_too_many_values(self._open), self.peek_event().start_mark)
        self._depth += 1
        collection = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        if collection:
            event = self.peek_event()
            name = (
                index.value
                if isinstance(index, ScalarNode)
                else f"[{index}]"
                if isinstance(index, int)
                else ""
            )
            self._open.append(
                _Open(
                    event.start_mark.line + 1, str(name), isinstance(event, yaml.MappingStartEvent)
                )
            )
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if collection:
                self._open.pop()

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node

    # ---------------------------------------------------------------------- constructing
    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue  # merged keys may be overridden: that is what << is for
                key = self.construct_object(key_node, deep=True)
                if value_node.tag in _NOT_PLAIN:  # refused here to name the key
                    raise _Refused(
                        f"'{clip(key, 60)}': {_NOT_PLAIN[value_node.tag]} is not allowed",
                        value_node,
                    )
                if not _hashable(key):
                    continue  # SafeConstructor reports unhashable keys
                if key in seen:
                    raise _Refused(
                        f"duplicate key '{clip(key, 60)}' (first given on line {seen[key]})",
                        key_node,
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node.tag in _NOT_PLAIN:
            raise _Refused(f"{_NOT_PLAIN[node.tag]} is not allowed", node)
        if node.tag == _INT_TAG and isinstance(node.value, str):
            digits = len(node.value.replace("_", "").lstrip("+-"))
            if node.value.lstrip("+-").startswith(("0x", "0o", "0b")):
                digits -= 2
            if digits > MAX_DIGITS:
                raise _Refused(f"an integer of {digits:,} digits is too large", node)
        try:
            value = super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # e.g. !!int on a non-number, !!float overflow: PyYAML's constructors raise plainly.
            raise _Refused(f"cannot read value ({clip(exc, 80)})", node) from None
        if isinstance(value, str) and SURROGATE.search(value):
            raise _Refused(surrogate_message(value), node)
        return value


class HardenedLoader(_Rules, yaml.SafeLoader):
    """``SafeLoader`` with the rules of the module docstring (pure Python)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._start_rules()


if CParser is not None:

    class _FastLoader(_Rules, Composer, CParser, Resolver):  # type: ignore[misc, valid-type]
        """The same rules on libyaml's events: Python's composer and constructors, C's parser."""

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_rules()

    FAST_LOADER: type[_Rules] | None = _FastLoader
else:  # pragma: no cover
    FAST_LOADER = None


def _too_many_values(open_: list[_Open]) -> str:
    # The open list or mapping holding the most values is the one to shorten.
    big = max(open_, key=lambda o: o.children, default=None)
    where = ""
    if big is not None:
        kind = "mapping" if big.mapping else "list"
        count = big.children // 2 if big.mapping else big.children
        label = f" '{clip(big.name, 40)}'" if big.name else ""
        where = f"; the {kind}{label} starting on line {big.line} has {count:,} entries so far"
    return f"more than {MAX_VALUES:,} values in one file{where} (a scenario needs a few hundred: shorten it)"


def _count_values(text: str) -> None:
    """Refuse more than MAX_VALUES values (or MAX_ALIASES aliases) from libyaml's events alone.

    The same counts and messages as :meth:`_Rules.compose_node`, about four times faster, for
    texts long enough to hold that many values (at least one character each). Syntax errors are
    left to the loader, which reports them in its own words.
    """
    assert CParser is not None
    parser = CParser(text)
    open_: list[_Open] = []
    # per open mapping: [a key comes next, the last key read]; None for a list
    keys: list[list[Any] | None] = []
    values = aliases = 0

    def done(key: str) -> None:  # a child of the innermost collection is complete
        state = keys[-1] if keys else None
        if state is not None:
            state[0], state[1] = (False, key) if state[0] else (True, state[1])

    try:
        while True:
            try:
                event = parser.get_event()
            except yaml.YAMLError:
                return
            kind = type(event)
            if kind is yaml.StreamEndEvent:
                return
            if kind in (yaml.SequenceEndEvent, yaml.MappingEndEvent):
                open_.pop()
                keys.pop()
                done("")
                continue
            if kind is yaml.AliasEvent:
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _Refused(f"more than {MAX_ALIASES:,} aliases", event.start_mark)
                done("")
                continue
            if kind not in (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent):
                continue
            values += 1
            if open_:
                open_[-1].children += 1
            if values > MAX_VALUES:
                raise _Refused(_too_many_values(open_), event.start_mark)
            if kind is yaml.ScalarEvent:
                done(event.value)
                continue
            state = keys[-1] if keys else None
            name = (
                ""
                if not open_
                else f"[{open_[-1].children - 1}]"
                if state is None
                else ("" if state[0] else str(state[1]))
            )
            mapping = kind is yaml.MappingStartEvent
            open_.append(_Open(event.start_mark.line + 1, name, mapping))
            keys.append([True, ""] if mapping else None)
    finally:
        parser.dispose()


def surrogate_message(value: str) -> str:
    m = SURROGATE.search(value)
    code = f"U+{ord(m.group(0)):04X}" if m else "a surrogate"
    return f"{code} is half of a UTF-16 pair, not a character (write the character itself)"


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _construct_timestamp_as_text(loader: yaml.SafeLoader, node: Any) -> str:
    return str(loader.construct_scalar(node))


_Rules.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expanded_size(root: Node) -> None:
    """Refuse recursive aliases and documents larger than MAX_NODES once aliases are expanded."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    # Iterative post-order walk (documents are at most MAX_DEPTH deep, but stay explicit).
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            busy.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_NODES:
                raise _Refused(
                    f"the document expands to more than {MAX_NODES:,} values (alias bomb?)", node
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in busy:
            raise _Refused("recursive alias (a value contains itself)", node)
        busy.add(key)
        stack.append((node, True))
        for child in _children(node):
            if not isinstance(child, ScalarNode) or id(child) not in sizes:
                if id(child) in busy:
                    raise _Refused("recursive alias (a value contains itself)", child)
                stack.append((child, False))


def _load(loader_class: type[_Rules], text: str) -> Any:
    loader = loader_class(text)
    try:
        return loader.get_single_data()  # type: ignore[attr-defined]
    finally:
        loader.dispose()  # type: ignore[attr-defined]


#: Syntax errors, where libyaml's wording is terser than PyYAML's.
_SYNTAX_ERRORS = (yaml.scanner.ScannerError, yaml.parser.ParserError, yaml.reader.ReaderError)


def load_yaml(text: str) -> Any:
    """Plain data from YAML ``text`` under every rule of this module (``yaml.YAMLError`` if not):
    libyaml's events when available, PyYAML's own parser for the message of a syntax error."""
    if FAST_LOADER is not None and len(text) > MAX_VALUES:
        _count_values(text)
    try:
        return _load(FAST_LOADER or HardenedLoader, text)
    except _SYNTAX_ERRORS as exc:
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's 1 000
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", exc.problem_mark) from None
        # PyYAML's message names the token it expected; a bad character it finds at once.
        if FAST_LOADER is None or (
            len(text) > REREAD_BYTES and not isinstance(exc, yaml.reader.ReaderError)
        ):
            raise
        fast_error = exc
    _load(HardenedLoader, text)
    raise fast_error  # the two parsers disagree (PyYAML accepts): libyaml's word stands
