"""Hardened XML reading with line numbers, for NSC / TrustKit-Android files.

``defusedxml`` refuses entity declarations (billion-laughs bombs) and external entities; SAX
gives each element its line so messages can say ``line 12``.
"""

from __future__ import annotations

import xml.sax
from dataclasses import dataclass, field

import defusedxml
import defusedxml.sax

from simlib.toolkit.policy import ConfigError


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
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[Node] = []
        self.root: Node | None = None
        self._locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self._locator = locator

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        line = self._locator.getLineNumber() if self._locator else 0
        node = Node(name, dict(attrs.items()), line)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name: str) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text += content


def parse_xml(data: bytes, source: str) -> Node:
    """Parse ``data`` into a :class:`Node` tree; any problem is one ConfigError line."""
    if not data.strip():
        raise ConfigError(source, "", "empty file")
    builder = _Builder()
    try:
        # Entity declarations (inline or external) are refused; a DOCTYPE's external DTD id
        # (Info.plist has one) is allowed because the SAX reader never fetches it.
        defusedxml.sax.parseString(data, builder, forbid_external=False)
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
