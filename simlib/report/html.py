"""HTML fragments of the decision report: tables and cells (the page is made by nbconvert from
the executed report notebook, :mod:`simlib.report.render`), the page's Content-Security-Policy
and the check that a finished page holds no active content.

Names come from scenario files, which are untrusted: every value is escaped where it enters
HTML (:func:`table_html`, ``esc``, the template's alt text), the page allows no script
(:data:`PAGE_POLICY`), and :func:`active_content` refuses a page in which anything slipped through.
"""

from __future__ import annotations

import html
import math
from html.parser import HTMLParser

import pandas as pd

from simlib.errors import ReportError, clip, escape_controls
from simlib.report.decision import COLUMN_NOTES
from simlib.report.plots import readable

#: What the report page may load: its own inline styles and ``data:`` images. No script at all,
#: no frame, object, font, form target, base URL or connection (the template writes it as a
#: ``<meta http-equiv>``; :mod:`simlib.report.browser` also sends it as a header).
PAGE_POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "
    "child-src 'none'; worker-src 'none'; connect-src 'none'; font-src 'none'; media-src 'none'; "
    "manifest-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)


#: Elements that run script, load or embed something, submit or redirect: none belongs in a report.
_ACTIVE_TAGS = frozenset({
    "script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
    "link", "form", "input", "button", "textarea", "select", "option", "svg", "math", "video",
    "audio", "source", "track", "picture", "portal", "template", "slot", "canvas", "dialog",
    "marquee", "xmp", "plaintext", "noembed", "noframes", "param", "area", "map",
})  # fmt: skip
#: Attributes that name a URL or inline script/markup.
_URL_ATTRS = frozenset({
    "src", "href", "action", "formaction", "data", "poster", "background", "srcset", "srcdoc",
    "xlink:href", "ping", "cite", "longdesc", "lowsrc", "dynsrc", "manifest", "codebase",
    "itemtype", "usemap", "imagesrcset",
})  # fmt: skip


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_body = False
        self.policies: list[str] = []

    def _flag(self, what: str) -> None:
        line, _ = self.getpos()
        self.found.append(f"{what} (line {line})")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
        if tag in _ACTIVE_TAGS or (tag in ("style", "meta", "title") and self.in_body):
            self._flag(f"<{tag}> element")
        for name, value in attrs:
            text = (value or "").strip()
            if name.startswith("on"):
                self._flag(f"{name}= on <{tag}>")
            elif name == "http-equiv":
                if text.lower() == "content-security-policy" and not self.in_body:
                    self.policies.append(dict(attrs).get("content") or "")
                else:
                    self._flag(f"http-equiv={clip(text, 40)} on <{tag}>")
            elif name in _URL_ATTRS and not _allowed_url(tag, name, text):
                self._flag(f"{name}={clip(text, 40)} on <{tag}>")
            elif name == "style" and any(
                w in text.lower() for w in ("url(", "expression(", "@import")
            ):
                self._flag(f"style= with a URL on <{tag}>")

    handle_startendtag = handle_starttag


def _allowed_url(tag: str, name: str, value: str) -> bool:
    """In-page anchors and embedded PNG figures: the only URLs a report carries."""
    if tag == "a" and name == "href":
        return value.startswith("#")
    return tag == "img" and name == "src" and value.startswith("data:image/png;base64,")


def active_content(page: str) -> list[str]:
    """What in the HTML ``page`` could run script, load a resource, embed a file, submit or
    redirect (elements, event-handler attributes, URLs other than in-page anchors and
    embedded PNGs, a missing or weakened Content-Security-Policy): empty for a good report."""
    scanner = _Scanner()
    scanner.feed(page)
    scanner.close()
    if scanner.policies != [PAGE_POLICY]:
        scanner.found.append(
            "no Content-Security-Policy" if not scanner.policies else
            f"Content-Security-Policy {clip(' | '.join(scanner.policies), 60)} is not the report's"
        )  # fmt: skip
    return scanner.found


def check_page(page: str, name: str = "report.html") -> str:
    """``page`` when :func:`active_content` finds nothing, else a :class:`ReportError`."""
    found = active_content(page)
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise ReportError(
            f"{name}: refusing to write a page with active content ({found[0]}{more}); a "
            "name in the scenario reached the page unescaped, please report this as a simlib bug"
        )
    return page


def fmt(column: str, value: object) -> str:
    """A ranked-table cell as text (the HTML test parses these back)."""
    if isinstance(value, str):
        return value
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "never"
    if column == "peak_lockout" or column.startswith("protected_"):
        return f"{v:.1%}"
    if column.startswith(("median_recovery", "outage_p")):
        return f"{v:.0f}"
    return f"{v:,.0f}"


def esc(text: object) -> str:
    """A name or value as HTML text, the one rule: bidi and control characters made visible
    first (``html.escape`` leaves U+202E free to reverse the text after a name), then escaped."""
    return html.escape(escape_controls(str(text)))


def table_html(
    frame: pd.DataFrame, header: list[str] | None = None, *, table_id: str | None = None
) -> str:
    """``frame`` as an HTML table, every cell escaped; ``header`` is already-escaped HTML."""
    header = header or [esc(c) for c in frame.columns]
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = []
    for row in frame.itertuples(index=False):
        cells = [esc(v) for v in row]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def ranked_table_html(table: pd.DataFrame) -> str:
    shown = table.drop(columns=["outage_cost", "attack_loss"])
    text = pd.DataFrame({c: [fmt(c, v) for v in shown[c]] for c in shown.columns})
    header = [
        html.escape(readable(c) if c.startswith("protected_") else c.replace("_", " "))
        for c in shown.columns
    ]
    header = [
        f"protected: {h}" if c.startswith("protected_") else h
        for c, h in zip(shown.columns, header, strict=True)
    ]
    out = table_html(text, header, table_id="ranked")
    notes = "".join(
        f"<li><b>{html.escape(k.replace('_', ' '))}</b>: {html.escape(v)}</li>"
        for k, v in COLUMN_NOTES.items()
    )
    return out + f'<ul class="simlib-note">{notes}</ul>'
