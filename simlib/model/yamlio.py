"""Hardened YAML reading for scenario and sweep files.

``yaml.safe_load`` alone is not enough for files from strangers. :func:`read_yaml_file` and
:func:`parse_yaml` also

* read only regular files, at most :data:`MAX_BYTES` (``/dev/zero``, FIFOs and folders are refused
  without reading or blocking);
* refuse text that is not UTF-8, and control characters YAML does not allow;
* refuse duplicate keys in a mapping (YAML says keys are unique; PyYAML keeps the last silently);
* bound nesting depth (:data:`MAX_DEPTH`), alias uses (:data:`MAX_ALIASES`) and the size of the
  document with every alias expanded (:data:`MAX_NODES`), so an alias bomb ("billion laughs")
  is refused before anything expands it; recursive aliases are refused;
* keep timestamps as strings, so an impossible date such as ``2025-13-01`` reaches validation
  (which names the field) instead of failing inside the YAML reader;
* only build plain data: ``!!python/...`` tags are refused as by ``safe_load``.

Every problem raises :class:`~simlib.errors.ScenarioError` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simlib._files import MAX_INPUT_BYTES, InputFileError, read_limited
from simlib.errors import ScenarioError, clip

MAX_BYTES = MAX_INPUT_BYTES
MAX_DEPTH = 64
MAX_ALIASES = 10_000
MAX_NODES = 1_000_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, node_or_mark: Any) -> None:
        super().__init__(message)
        self.problem = message
        mark = getattr(node_or_mark, "start_mark", node_or_mark)
        self.problem_mark = mark


class HardenedLoader(yaml.SafeLoader):
    """``SafeLoader`` with duplicate-key, depth, alias and timestamp rules (module docstring)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    # ------------------------------------------------------------------------- composing
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES:,} aliases", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node

    # ---------------------------------------------------------------------- constructing
    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue  # merged keys may be overridden: that is what << is for
                key = self.construct_object(key_node, deep=True)
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
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # e.g. !!int on a non-number, !!float overflow: PyYAML's constructors raise plainly.
            raise _Refused(f"cannot read value ({clip(exc, 80)})", node) from None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _construct_timestamp_as_text(loader: yaml.SafeLoader, node: Any) -> str:
    return str(loader.construct_scalar(node))


HardenedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


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


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text with :class:`HardenedLoader`; errors are one-line ScenarioErrors."""
    loader = None
    try:
        loader = HardenedLoader(text)
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        exc._text = text  # type: ignore[attr-defined]  # for the line of a bad character
        raise _yaml_error(exc, source) from None
    except RecursionError:
        raise ScenarioError(source, "", f"invalid YAML: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()


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
        raise ScenarioError(shown, "", f"cannot read {what}: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            shown, f"line {line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8"
        ) from None


def read_yaml_file(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file with every rule of this module."""
    text = read_text_file(path, what)
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_yaml(text, str(path))
