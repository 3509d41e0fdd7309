"""Hostile names in a scenario never become markup: not in report.html (as Chromium builds it:
no injected element, attribute or request), not in report.pdf (no planted secret), not in
report.md (no link, image, HTML or table break), not in figures (mathtext drawn literally, no
names in PNG metadata). Each check is also shown to fail on a planted injection."""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib
import mistune
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text as MplText

from simlib.errors import escape_controls
from simlib.report import browser, comparison_plots, plots, timelines
from simlib.report.decision import pareto
from simlib.report.document import DecisionReport
from simlib.report.fragments import Fragment
from simlib.report.html import PAGE_POLICY, ReportError, active_content, check_page
from simlib.report.markdown import md_text
from simlib.report.style import styled
from tests.report import hostile
from tests.report.hostile import (
    HTML,
    MARKDOWN,
    MATH,
    SECRET_TEXT,
    Text,
    needs_chromium,
    page_requests,
    pdf_text,
)

pytestmark = pytest.mark.hostile

matplotlib.use("Agg")  # tests only

PAYLOADS = [*HTML, *MARKDOWN, *MATH]


def _page(body: str, policy: str | None = PAGE_POLICY) -> str:
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">' if policy else ""
    return f"<!DOCTYPE html><html><head>{meta}<meta charset='utf-8'><title>t</title></head><body>{body}</body></html>"


# ---------------------------------------------------------------- the report of hostile names
def test_names_are_text_in_the_page(hostile_report):
    page = (hostile_report.out / "report.html").read_text(encoding="utf-8")
    assert active_content(page) == []
    text = Text(page, "ranked")
    # names are shown exactly, bidi and control characters as visible escapes (\u202e)
    shown = sorted(escape_controls(n) for n in hostile_report.names)
    assert sorted(text.column("strategy")) == shown
    scenario = hostile.scenario_dict(hostile_report.canary.port, hostile_report.secret)
    name = escape_controls(scenario["name"])
    assert f"{name}: should we pin certificates, and how?" in text.text
    assert scenario["description"] in text.text
    by_platform = [a for a in text.alts if a and a.endswith(" by platform")]
    assert by_platform and all(a.removesuffix(" by platform") in shown for a in by_platform)


def test_no_name_can_reorder_text_and_no_warning_reaches_the_page(hostile_report):
    page = (hostile_report.out / "report.html").read_text(encoding="utf-8")
    markdown = (hostile_report.out / "report.md").read_text(encoding="utf-8")
    assert any("\u202e" in n for n in hostile_report.names)  # the payload is there to escape
    for text in (page, markdown):
        assert escape_controls(text.replace("\n", "").replace("\t", "")) == text.replace(
            "\n", ""
        ).replace("\t", ""), "a raw control or bidi character reached the report"
    notebook = json.loads((hostile_report.out / "report.ipynb").read_text(encoding="utf-8"))
    streams = [
        o.get("text")
        for cell in notebook["cells"]
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]
    assert streams == [], streams


@needs_chromium
def test_page_as_chromium_builds_it(hostile_report, chromium):
    dom, console, net = chromium["report"].result()
    assert console == []
    assert active_content(dom) == []
    assert page_requests(net) == []
    assert hostile_report.canary.hits == []
    shown = sorted(escape_controls(n) for n in hostile_report.names)
    assert sorted(Text(dom, "ranked").column("strategy")) == shown


@needs_chromium
def test_pdf_shows_names_and_no_secret(hostile_report):
    text = pdf_text(hostile_report.out / "report.pdf")
    assert "Recommendation" in text and "<script>alert(2)</script>" in text
    assert SECRET_TEXT not in text
    assert hostile_report.canary.hits == []


def test_markdown_renders_names_as_text(hostile_report):
    source = (hostile_report.out / "report.md").read_text(encoding="utf-8")
    rendered = _markdown(source)
    tags = _tags(rendered)
    assert tags <= {"h1", "p", "table", "thead", "tbody", "tr", "th", "td", "img"}, tags
    assert Text(rendered).alts == ["lockout", "coverage"]  # the two figures, no payload image
    cells = Text(rendered.replace("<table>", '<table id="t">'), "t")
    assert sorted(cells.column("strategy")) == sorted(
        escape_controls(n) for n in hostile_report.names
    )
    scenario = hostile.scenario_dict(hostile_report.canary.port, hostile_report.secret)
    assert (
        f"{escape_controls(scenario['name'])}: pinning strategies compared" in Text(rendered).text
    )


def test_figure_files_carry_no_names(hostile_report):
    for png in ("lockout.png", "coverage.png"):
        meta = _png_text((hostile_report.out / png).read_bytes())
        assert not any(n[:20] in value for n in hostile_report.names for value in meta.values()), (
            meta
        )


# ---------------------------------------------------------------- the checks can fail
def _planted_page(report_html: Path, port: int, folder: Path) -> Path:
    """The report page with its policy removed and the HTML payloads raw, loading from the
    canary on ``port``."""
    page = report_html.read_text(encoding="utf-8")
    page, policies = re.subn(r'<meta [^>]*http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert policies == 1
    # loads go to the canary (no DNS, nothing leaves the machine); script logs instead of
    # alert() (a dialog blocks headless Chromium); no refresh (it would leave the page); the
    # unclosed comment last (it hides everything after it)
    kept = sorted((p for p in HTML if "refresh" not in p), key=lambda p: "<!--" in p)
    raw = f"<img src=http://127.0.0.1:{port}/planted.png>" + "".join(kept)
    raw = raw.replace("https://pwn.invalid", f"http://127.0.0.1:{port}")
    raw = raw.replace("alert(", "console.log('simlib-pwned',")
    planted = folder / "planted.html"
    planted.write_text(page.replace("</body>", raw + "</body>"), encoding="utf-8")
    return planted


@pytest.fixture(scope="module")
def chromium(hostile_report, tmp_path_factory):
    """The Chromium runs of the checks below, started together (each one waits seconds on
    Chromium, which runs in its own processes): futures by name. The planted page loads from a
    canary of its own, so the report's canary stays a clean record of the report alone."""
    folder = tmp_path_factory.mktemp("chromium")
    planted_canary = hostile.Canary()
    planted = _planted_page(hostile_report.out / "report.html", planted_canary.port, folder)
    leak = folder / "leak.html"
    leak.write_text(
        _page(f"<p>hello</p><iframe src='{hostile_report.secret.as_uri()}'></iframe>", None)
    )

    def dom(page: Path, net: Path):
        return (*browser.dump_dom(page, net_log=net), net)

    def raw_pdf(pdf: Path) -> Path:  # as file://, no policy, no loopback server
        browser._run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", leak.as_uri()])
        return pdf

    def safe_pdf(pdf: Path):
        return browser.print_pdf(leak, pdf), pdf

    with ThreadPoolExecutor(max_workers=4) as pool:
        yield {
            "report": pool.submit(dom, hostile_report.out / "report.html", folder / "net.json"),
            "planted": pool.submit(dom, planted, folder / "planted-net.json"),
            "raw pdf": pool.submit(raw_pdf, folder / "raw.pdf"),
            "safe pdf": pool.submit(safe_pdf, folder / "safe.pdf"),
            "planted canary": planted_canary,
        }
    planted_canary.stop()


@needs_chromium
def test_planted_injection_is_caught(chromium):
    """The same checks on a hand-made page with the payloads raw and no policy: every kind of
    injection is found in Chromium's DOM, and the image request reaches the canary."""
    dom, console, net = chromium["planted"].result()
    assert any("simlib-pwned" in line for line in console)  # the planted script did run
    found = " | ".join(active_content(dom))
    for kind in ("no Content-Security-Policy", "<script> element", "onerror= on <img>",
                 "<iframe> element", "<svg> element", "<object> element", "<form> element",
                 "href=javascript:", "<style> element"):  # fmt: skip
        assert kind in found
    port = chromium["planted canary"].port
    assert f"http://127.0.0.1:{port}/planted.png" in page_requests(net)
    assert "/planted.png" in chromium["planted canary"].hits


@needs_chromium
def test_secret_check_catches_a_leak_and_print_pdf_prevents_it(chromium):
    """Printed as file:// without a policy, an iframe copies the secret into the PDF (so the
    check can fail); print_pdf of the very same page does not (no file:// from its origin)."""
    assert SECRET_TEXT in pdf_text(chromium["raw pdf"].result())
    print_console, safe = chromium["safe pdf"].result()
    text = pdf_text(safe)
    assert "hello" in text and SECRET_TEXT not in text
    assert print_console  # Chromium says it refused the local file


def test_report_with_active_content_is_refused_and_nothing_written(tmp_path, monkeypatch):
    from simlib.report import render

    def fake_execute(notebook, output, parameters, cwd):
        Path(output).write_text("{}")
        return Path(output)

    monkeypatch.setattr(render, "execute", fake_execute)
    monkeypatch.setattr(
        render, "to_html", lambda nb, title: _page("<p>x</p><script>alert(1)</script>")
    )
    out = tmp_path / "out"
    with pytest.raises(ReportError, match=r"report.html: refusing .*<script> element") as err:
        render.write_report(hostile_report_scenario(), out)
    assert "\n" not in str(err.value)
    assert not out.exists() or list(out.iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if ".report-" in p.name]


def hostile_report_scenario():
    from tests.conftest import make

    return make(name="<script>x</script>")


# ---------------------------------------------------------------- the page checker
BAD = {
    "script": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "svg onload": "<svg onload=alert(1)>",
    "iframe": "<iframe src=file:///etc/passwd></iframe>",
    "iframe srcdoc": "<iframe srcdoc='<b>x</b>'></iframe>",
    "object": "<object data=x.swf></object>",
    "embed": "<embed src=x>",
    "javascript link": "<a href=javascript:alert(1)>x</a>",
    "remote link": "<a href=https://example.invalid/>x</a>",
    "remote image": "<img src=https://example.invalid/x.png>",
    "file image": "<img src=file:///etc/hostname>",
    "svg image": "<img src='data:image/svg+xml;base64,PHN2Zz48L3N2Zz4='>",
    "srcset": "<img src='data:image/png;base64,AA==' srcset='https://example.invalid/x.png 2x'>",
    "style in body": "<style>body{display:none}</style>",
    "style url": '<p style="background:url(https://example.invalid/)">x</p>',
    "meta refresh": "<meta http-equiv=refresh content='0;url=https://example.invalid/'>",
    "base": "<base href=https://example.invalid/>",
    "form": "<form action=https://example.invalid/><button formaction=x>go</button></form>",
    "link": "<link rel=stylesheet href=https://example.invalid/x.css>",
    "math": "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "video poster": "<video poster=https://example.invalid/p.png></video>",
    "details ontoggle": "<details open ontoggle=alert(1)>x</details>",
    "uppercase handler": "<IMG SRC=x ONERROR=alert(1)>",
    "entity-encoded javascript": "<a href='&#106;avascript:alert(1)'>x</a>",
}
GOOD = {
    "escaped script": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "anchor": "<a class='anchor-link' href='#Findings'>¶</a>",
    "figure": "<img src='data:image/png;base64,iVBORw0KGgo=' alt='&quot;&gt;&lt;img onerror=x&gt;'>",
    "table": "<table id='ranked'><tr><td>&lt;b&gt;</td></tr></table>",
    "snippet": "<pre class='simlib-snippet'>&lt;pin-set&gt;</pre>",
    "styled text": "<p style='color:#555'>on error</p>",
}


@pytest.mark.parametrize("snippet", BAD.values(), ids=BAD.keys())
def test_checker_flags_active_content(snippet):
    assert active_content(_page(snippet))
    with pytest.raises(ReportError):
        check_page(_page(snippet))


@pytest.mark.parametrize("snippet", GOOD.values(), ids=GOOD.keys())
def test_checker_passes_inert_content(snippet):
    assert active_content(_page(snippet)) == []


@pytest.mark.parametrize(
    "policy",
    [None, "default-src *", PAGE_POLICY.replace("script-src 'none'", "script-src 'unsafe-inline'")],
)
def test_checker_wants_the_report_policy(policy):
    assert active_content(_page("<p>x</p>", policy))


# ---------------------------------------------------------------- Markdown
EXTRA_MD = [
    "![img](https://pwn.invalid/i.png)",
    "<img src=x onerror=alert(1)>",
    "x\\",
    "\\|",
    "a\\|b",
    "[^1] footnote",
    "||spoiler||",
    "&amp; &#x3C; &lt;",
    "- not a list",
    "1. not a list",
    "---",
    "    indented",
]


def _markdown(source: str) -> str:
    plugins = ["table", "url", "strikethrough", "math", "mark", "superscript", "subscript",
               "footnotes", "spoiler", "insert", "abbr", "def_list", "ruby"]  # fmt: skip
    return mistune.create_markdown(plugins=plugins)(source)


def _tags(rendered: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", rendered)}


@pytest.mark.parametrize("payload", PAYLOADS + EXTRA_MD)
def test_md_text_renders_as_exactly_the_text(payload):
    rendered = _markdown(
        f"# {md_text(payload)}: title\n\n| strategy | x |\n|---|---|\n| {md_text(payload)} | 1 |\n"
    )
    assert _tags(rendered) <= {"h1", "table", "thead", "tbody", "tr", "th", "td"}, rendered
    cells = Text(rendered.replace("<table>", '<table id="t">'), "t")
    assert cells.column("strategy") == [payload.strip()] and cells.column("x") == ["1"]
    assert Text(rendered).text[0] == f"{payload}: title".strip()


# ---------------------------------------------------------------- the template's alt text
@pytest.fixture(scope="module")
def alt_page(hostile_report) -> str:
    """One exported notebook with one figure per payload, the payload as its alt text (made with
    the session's hostile report: :func:`tests.report.hostile.write_alt_page`)."""
    return hostile_report.alt_page.read_text(encoding="utf-8")


def test_alt_page_is_inert(alt_page):
    assert active_content(alt_page) == []
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in alt_page


@pytest.mark.parametrize("i", range(len(PAYLOADS)), ids=[p[:30] for p in PAYLOADS])
def test_alt_text_is_the_name(alt_page, i):
    assert Text(alt_page).alts[i] == PAYLOADS[i]


# ---------------------------------------------------------------- fragments and figures
@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from simlib.api import simulate
    from simlib.model import load_scenario

    folder = tmp_path_factory.mktemp("fragments")
    secret = folder / "secret.txt"
    path = hostile.write_scenario(folder, 9, secret)
    return DecisionReport(simulate(load_scenario(path)))


SECTIONS = ["title", "answer", "ranked", "findings_list", "no_platform_difference", "risk_calendar",
            "assumptions", "prerequisites", "pareto_figures"]  # fmt: skip


@pytest.mark.parametrize("section", SECTIONS)
def test_fragments_are_inert(report, section):
    items = getattr(report, section)()
    fragments = [
        x for x in (items if isinstance(items, list) else [items]) if isinstance(x, Fragment)
    ]
    assert fragments or section == "pareto_figures"
    for fragment in fragments:
        assert active_content(_page(fragment.html)) == []


def test_fragments_show_every_name(report):
    page = _page(
        "".join(
            getattr(report, s)().html for s in ("title", "ranked", "risk_calendar", "assumptions")
        )
    )
    text = "".join(Text(page).text)
    sc = report.scenario
    names = [sc.name, sc.description, *(s.name for s in sc.strategies), *(c.name for c in sc.cas),
             *(i.name for c in sc.cas for i in c.intermediates)]  # fmt: skip
    names = [escape_controls(n) for n in names]  # shown with bidi and controls visible
    assert all(n in text for n in names), [n for n in names if n not in text]


def _texts(fig) -> list[MplText]:
    fig.canvas.draw()  # drawing is what fails on bad mathtext
    return [t for t in fig.findobj(MplText) if t.get_text()]


def _figure(draw) -> Figure:
    with styled():
        fig = Figure(figsize=(9, 5), layout="constrained")
        draw(fig)
        fig.canvas.draw()
        return fig


def _mc_frame(names):
    return pd.DataFrame([{"strategy": n, "replication": r, "mean_lockout_rate": 0.1 * r,
                          "p95_outage_days": r} for n in names for r in range(3)])  # fmt: skip


FIGURES = {
    "lockout": lambda r, f: plots.plot_lockout(r.result.timeseries, f.subplots(), title=r.scenario.name),
    "lockout panels": lambda r, f: plots.plot_lockout_panels(r.result.timeseries, r.result.issuances, r.result.releases, fig=f),
    "platform split": lambda r, f: plots.plot_platform_split(
        r.result.timeseries, r.scenario.strategies[0].name, {"android": 0.5, "ios": 0.5}, f.subplots()),
    "pareto": lambda r, f: plots.plot_pareto(pareto(r.table), "rogue_ca", f.subplots()),
    "coverage": lambda r, f: plots.plot_coverage_readable(r.result.summary, f.subplots()),
    "timeline": lambda r, f: timelines.plot_lockout_timeline(r.result.timeseries, f.subplots(), title=r.scenario.name),
    "served chains": lambda r, f: timelines.plot_served_chains(r.result.issuances, f.subplots(), title=r.scenario.name),
    "mc boxes": lambda r, f: comparison_plots.plot_mc_metric(
        _mc_frame([s.name for s in r.scenario.strategies]), "mean_lockout_rate", f.subplots()),
}  # fmt: skip


@pytest.mark.parametrize("name", FIGURES)
def test_figures_draw_names_literally(report, name):
    fig = _figure(lambda f: FIGURES[name](report, f))
    shown = []
    for t in _texts(fig):
        text, math = t._preprocess_math(t.get_text())
        assert math is False, t.get_text()
        shown.append(text)
    blob = "\n".join(shown).replace("\n", " ")
    if name in ("lockout", "lockout panels", "coverage", "mc boxes"):  # these show every strategy
        # panel titles clip a name to PANEL_TITLE_CHARS (the last one an ellipsis)
        missing = [
            s.name
            for s in report.scenario.strategies
            if escape_controls(s.name)[: plots.PANEL_TITLE_CHARS - 1] not in blob
        ]
        assert not missing or name == "lockout", (
            missing
        )  # lockout lists never-locking ones together


@pytest.mark.parametrize("payload", [*MATH, r"$\alpha$", r"$\sqrt{2}$", r"\\$x$", "$a$$b$"])
def test_text_label_is_literal(payload):
    fig = Figure(figsize=(2, 1))
    ax = fig.subplots()
    ax.set_title(plots.text_label(payload))
    ax.plot([0, 1], [0, 1], label=plots.text_label(payload))
    ax.legend()
    ax.set_xticks([0.5], [plots.text_label(payload)])
    texts = [t for t in _texts(fig) if t.get_text()]
    drawn = [t._preprocess_math(t.get_text()) for t in texts]
    assert (
        sum(text == payload and math is False for text, math in drawn) >= 3
    )  # title, legend, tick


def _png_text(data: bytes) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG."""
    out, pos = {}, 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = zlib.decompress(value[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode("latin-1")] = rest.decode("utf-8", "replace")
        pos += 12 + length
    return out


def test_png_text_reader_sees_metadata():
    """The metadata check can fail: a PNG with a title has it."""
    fig = Figure(figsize=(0.5, 0.5))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Title": "<script>x</script>"})
    assert _png_text(buf.getvalue())["Title"] == "<script>x</script>"
    assert "Title" not in _png_text(plots.figure_png(fig))
