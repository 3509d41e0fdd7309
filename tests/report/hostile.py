"""Hostile names for the report tests: payloads, a scenario file carrying them in every name
field the schema lets them into, a loopback canary that counts requests, and readers for what
Chromium saw (network log) and printed (PDF text)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from simlib.report.browser import BrowserError, find_chromium
from tests.conftest import BASE, ROOT


def _have_chromium() -> bool:
    try:
        return bool(find_chromium())
    except BrowserError:
        return False


HAVE_CHROMIUM = _have_chromium()
#: CI sets SIMLIB_REQUIRE_CHROMIUM=1 (.ci/run installs the browser): there a missing Chromium fails
#: the browser tests instead of skipping them, so the injection checks cannot silently not run.
REQUIRE_CHROMIUM = os.environ.get("SIMLIB_REQUIRE_CHROMIUM") == "1"
if REQUIRE_CHROMIUM and not HAVE_CHROMIUM:

    def needs_chromium(test):
        @functools.wraps(test)
        def fail(*args, **kwargs):
            pytest.fail("SIMLIB_REQUIRE_CHROMIUM=1 but headless Chromium is not installed")

        return fail
else:
    needs_chromium = pytest.mark.skipif(
        not HAVE_CHROMIUM, reason="headless Chromium not installed (apt install chromium)"
    )


#: Text of the planted secret file; it must never appear in a PDF.
SECRET_TEXT = "simlib-planted-secret-7f3a91"

#: HTML payloads: script, event handlers, frames, objects, styles, redirects, broken markup.
HTML = [
    '"><img src=x onerror=alert(1)>',
    "<script>alert(2)</script>",
    "<a href=javascript:alert(3)>click</a>",
    "<svg onload=alert(4)>",
    "<style>body{display:none}</style>",
    "'><iframe srcdoc='<script>alert(5)</script>'>",
    "<meta http-equiv=refresh content='0;url=https://pwn.invalid/'>",
    "<object data=https://pwn.invalid/o></object>",
    "<base href=https://pwn.invalid/>",
    "<form action=https://pwn.invalid/><button>go</button></form>",
    "</title><script>alert(6)</script>",
    "<!-- unclosed comment",
    '<noscript><p title="</noscript><img src=x onerror=alert(7)>">',
    "<math><mi xlink:href=javascript:alert(8)>x</mi></math>",
    "</td></tr></table><b>broken table",
    "&lt;b&gt;already escaped&lt;/b&gt; &amp; &#60;",
]
#: Markdown payloads: links, images, autolinks, table breakers, code, emphasis, extensions.
MARKDOWN = [
    "[x](javascript:alert(9))",
    "a | b | c",
    "`code` and ``more``",
    "**bold** _em_ ~~del~~ ==mark==",
    "<https://pwn.invalid/auto> www.pwn.invalid mail@pwn.invalid",
    "# heading > quote [ref]: https://pwn.invalid/",
    "trailing backslash \\",
]
#: Matplotlib mathtext payloads: valid, unbalanced, unknown macros, escaped dollars.
MATH = [
    r"$\frac{a}{b}$",
    "$x^",
    r"$\undefinedmacro{$",
    r"a\$b$c",
    "$$",
    r"\$x$ and ${}^{}_{}$",
]
#: Bidi payloads (allowed in names): unescaped, they would reorder the text after the name.
BIDI = ["\u202eright-to-left override\u202c", "\u2066isolate\u2069 \u200fmark \u061c"]


def canary_payloads(port: int) -> list[str]:
    """Payloads that would load from the loopback canary on ``port`` if they ever ran."""
    root = f"http://127.0.0.1:{port}"
    return [
        f"<img src={root}/img.png>",
        f"<link rel=stylesheet href={root}/style.css>",
        f"![y]({root}/md.png)",
        f"<video poster={root}/poster.png>",
    ]


def strategy_names(port: int, secret: Path) -> list[str]:
    """Every payload in a strategy name, packed a few to a name (names allow 200 characters;
    each strategy costs report time). The first name opens with the alt-text breaker."""
    payloads = [
        *HTML,
        *MARKDOWN,
        *MATH,
        *BIDI,
        *canary_payloads(port),
        f"<iframe src={secret.as_uri()}></iframe>",
    ]
    names: list[str] = []
    for payload in payloads:
        if names and len(names[-1]) + 1 + len(payload) <= 200:
            names[-1] += " " + payload
        else:
            names.append(payload)
    assert len(set(names)) == len(names) and max(map(len, names)) <= 200
    return names


#: The pins the hostile strategies cycle through (one keeps a backup: its platforms differ, so the
#: report draws a figure whose alt text is "<name> by platform").
PINS = [
    {"pin": "leaf_spki", "backup": ["ca:ca2"]},
    {"pin": "root_spki"},
    {"pin": "intermediate_spki"},
    {"pin": "none"},
    {"pin": "leaf_cert"},
]


def scenario_dict(port: int, secret: Path) -> dict:
    """The test BASE scenario with a hostile name in every field that reaches the report:
    scenario name and description, every strategy, CA, root and intermediate name (host names
    must be DNS names, so they stay plain)."""
    data = json.loads(json.dumps(BASE))
    data["name"] = "</title><svg onload=alert(10)>$\\frac{1}{2}$ [t](javascript:x) \u202eevil"
    data["description"] = (
        "<style>*{display:none}</style><script>alert(11)</script> | `d` [d](https://pwn.invalid)"
    )
    data["fleet"]["platforms"] = {"android": 0.5, "ios": 0.5}
    data["cas"] = [
        {"name": "<b>ca1</b><img src=x onerror=alert(12)>", "root": "<u>R</u> $x^$",
         "intermediates": [{"name": "<i>I1</i> [i](javascript:x)"}]},
        {"name": "ca2", "root": "<svg/onload=alert(13)> | root"},
    ]  # fmt: skip
    data["hosts"][0]["ca"] = data["cas"][0]["name"]
    data["strategies"] = [
        {"name": name, **PINS[i % len(PINS)]} for i, name in enumerate(strategy_names(port, secret))
    ]
    data["attacks"] = ["rogue_ca"]
    return data


def write_scenario(folder: Path, port: int, secret: Path) -> Path:
    path = folder / "hostile.yaml"
    path.write_text(
        yaml.safe_dump(scenario_dict(port, secret), allow_unicode=True), encoding="utf-8"
    )
    return path


class Canary(ThreadingHTTPServer):
    """A loopback HTTP server that records every request (no payload may ever reach it)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.hits: list[str] = []
        super().__init__(("127.0.0.1", 0), _CanaryHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _CanaryHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_error(404)

    do_POST = do_GET

    def log_message(self, format, *args) -> None:
        pass


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself requested over the network (Chromium's own background requests
    carry no page origin in their network isolation key and are left out)."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start
        and "file://" in str(e.get("params", {}).get("network_isolation_key", ""))
    ]


def pdf_text(pdf: Path) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages)


class Text(HTMLParser):
    """Text of a page: all of it, the cells of one table by id, and every img's alt."""

    def __init__(self, page: str, table: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.table, self.text, self.rows, self.alts = table, [], [], []
        self._in_table = self._cell = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.alts.append(a.get("alt"))
        if tag == "table" and a.get("id") == self.table:
            self._in_table = True
        if self._in_table and tag == "tr":
            self.rows.append([])
        if self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if self._in_table and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        if tag == "table":
            self._in_table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def column(self, name: str) -> list[str]:
        return [r[self.rows[0].index(name)] for r in self.rows[1:]]


@dataclass
class Built:
    """The one hostile report of a test session (report.pdf only when Chromium is installed)."""

    out: Path
    scenario: Path
    names: list[str]
    secret: Path
    canary: Canary
    alt_page: Path  # see write_alt_page


#: Builds the report in a child process: it costs seconds (notebook kernel, nbconvert, Chromium),
#: which then overlap the tests that run before the first one that reads it.
_BUILD = """
import sys
from simlib.model import load_scenario
from simlib.report.render import write_report
from tests.report.hostile import write_alt_page
write_report(load_scenario(sys.argv[1]), sys.argv[2], pdf=sys.argv[3] == "1")
write_alt_page(sys.argv[4])
"""

#: The title of the alt-text page: it closes <title> and opens a script.
ALT_TITLE = "</title><script>alert(1)</script>"


def write_alt_page(path: str | Path) -> None:
    """An exported notebook (the report's nbconvert path) with one figure per payload of HTML,
    MARKDOWN and MATH, the payload as its alt text, written as HTML to ``path``."""
    import base64

    import nbformat
    from matplotlib.figure import Figure

    from simlib.report import plots
    from simlib.report.fragments import Picture
    from simlib.report.notebook import to_html

    png = plots.figure_png(Figure(figsize=(0.2, 0.2)))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    for payload in [*HTML, *MARKDOWN, *MATH]:
        data, meta = Picture(png, payload)._repr_png_()
        cell.outputs.append(nbformat.v4.new_output(
            "display_data", data={"image/png": base64.b64encode(data).decode()},
            metadata={"image/png": meta},
        ))  # fmt: skip
    nb.cells.append(cell)
    path = Path(path)
    notebook = path.with_suffix(".ipynb")
    nbformat.write(nb, str(notebook))
    path.write_text(to_html(notebook, title=ALT_TITLE), encoding="utf-8")


class Build:
    """The hostile report being built by a child process; :meth:`wait` gives the :class:`Built`.

    The canary runs in the test process from the start, so a payload that made Chromium (in the
    child, printing the PDF) send a request is still counted."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="simlib-hostile-"))
        self.secret = self.root / "secret.txt"
        self.secret.write_text(SECRET_TEXT, encoding="utf-8")
        self.canary = Canary()
        self.scenario = write_scenario(self.root, self.canary.port, self.secret)
        self.out = self.root / "report"
        self.alt_page = self.root / "alt" / "alt.html"
        self.alt_page.parent.mkdir()
        self.log = self.root / "build.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BUILD, str(self.scenario), str(self.out),
                 "1" if HAVE_CHROMIUM else "0", str(self.alt_page)],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its kernel and Chromium are stopped with it
            )  # fmt: skip
        self.built: Built | None = None

    def wait(self) -> Built:
        if self.built is None:
            code = self.proc.wait(timeout=600)
            if code != 0:
                tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
                pytest.fail(f"building the hostile report failed (exit {code}):\n{tail}")
            names = strategy_names(self.canary.port, self.secret)
            self.built = Built(
                self.out, self.scenario, names, self.secret, self.canary, self.alt_page
            )
        return self.built

    def close(self) -> None:
        if self.proc.poll() is None:  # the session ended before any test read the report
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.canary.stop()
        shutil.rmtree(self.root, ignore_errors=True)


#: The session's build, started by tests/report/conftest.py once collection is over.
BUILD = pytest.StashKey[Build]()


def uses_hostile_report(item: pytest.Item) -> bool:
    return "hostile_report" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session")
def hostile_report(request):
    """The decision report of :func:`scenario_dict`, made once per session (it costs seconds):
    test_browser.py and test_hostile_names.py read it. Started as soon as collection ends (or
    here, if the conftest hook did not run)."""
    stash = request.config.stash
    if BUILD not in stash:
        stash[BUILD] = Build()
    return stash[BUILD].wait()
