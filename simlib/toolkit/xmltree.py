"""Hardened XML reading with line numbers, for NSC / TrustKit-Android files.

``defusedxml`` refuses entity declarations (billion-laughs bombs) and external entities; a
reference to an undefined entity (which expat skips when the document names an external DTD, as
Info.plist does) is refused too. SAX gives each element its line so messages can say ``line 12``.

Bounded: elements nest at most :data:`MAX_XML_DEPTH` deep (AOSP's recursive parser has no limit
of its own; real configs nest two or three ``domain-config`` levels), so the importers may walk
the tree recursively, and text is joined once per element, linear in the file size.
"""

from __future__ import annotations

import xml.sax
from dataclasses import dataclass, field

import defusedxml
import defusedxml.sax

from simlib.toolkit.policy import ConfigError

#: Deepest element nesting accepted (network-security-config > domain-config … > pin-set > pin).
MAX_XML_DEPTH = 64


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def where(self) -> str:
        return f"line {self.line}"


class _Builder(xml.sax.ContentHandler):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.stack: list[Node] = []
        self.root: Node | None = None
        self._locator: xml.sax.xmlreader.Locator | None = None
        # Text chunks of each open element, joined at its end: ``+=`` on a str attribute is
        # quadratic when expat hands over text in many pieces (every entity reference is one).
        self._texts: list[list[str]] = []

    def _line(self) -> int:
        return self._locator.getLineNumber() if self._locator else 0

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self._locator = locator

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        line = self._line()
        if len(self.stack) >= MAX_XML_DEPTH:
            raise ConfigError(
                self.source,
                f"line {line}",
                f"XML elements nested more than {MAX_XML_DEPTH} deep; a pin config nests a few",
            )
        node = Node(name, dict(attrs.items()), line)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self._texts.append([])

    def endElement(self, name: str) -> None:
        self.stack.pop().text = "".join(self._texts.pop())

    def characters(self, content: str) -> None:
        if self._texts:
            self._texts[-1].append(content)

    def skippedEntity(self, name: str) -> None:
        raise ConfigError(
            self.source,
            f"line {self._line()}",
            f"reference to undefined XML entity &{name}; refused (configs never need entities)",
        )


def parse_xml(data: bytes, source: str) -> Node:
    """Parse ``data`` into a :class:`Node` tree; any problem is one ConfigError line."""
    if not data.strip():
        raise ConfigError(source, "", "empty file")
    builder = _Builder(source)
    try:
        # Entity declarations (inline or external) are refused; a DOCTYPE's external DTD id
        # (Info.plist has one) is allowed because the SAX reader never fetches it.
        defusedxml.sax.parseString(data, builder, forbid_external=False)
    except ConfigError:
        raise
    except xml.sax.SAXParseException as exc:
        where = f"line {exc.getLineNumber()}"
        raise ConfigError(source, where, f"malformed XML: {exc.getMessage()}") from None
    except defusedxml.EntitiesForbidden as exc:
        raise ConfigError(
            source,
            "",
            f"XML entity declaration {exc.name!r} refused (entity expansion bombs and "
            "external entities); configs never need entities",
        ) from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise ConfigError(source, "", f"external XML reference refused: {exc}") from None
    except (xml.sax.SAXException, ValueError, UnicodeError) as exc:
        raise ConfigError(source, "", f"cannot read XML: {exc}") from None
    assert builder.root is not None  # SAX raises on a document without an element
    return builder.root
