"""The report renders in headless Chromium without a console error; --pdf prints it; a missing
Chromium is one clear line before any work."""

from __future__ import annotations

import shutil

import matplotlib.image as mpimg
import pytest

from simlib.cli.main import main
from simlib.report.browser import BrowserError, find_chromium, print_pdf, screenshot
from simlib.report.render import write_report
from tests.conftest import make

STRATEGIES = [
    {"name": "leaf + backup CA", "pin": "leaf_spki", "backup": ["ca:ca2"]},
    {"name": "root", "pin": "root_spki"},
]
HAVE_CHROMIUM = any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason="headless Chromium not installed (apt install chromium)")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    write_report(make({"fleet.platforms": {"android": 0.5, "ios": 0.5}}, strategies=STRATEGIES,
                      attacks=["rogue_ca"]), out)
    return out / "report.html"


def test_missing_chromium_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SIMLIB_CHROMIUM", raising=False)
    with pytest.raises(BrowserError, match="apt install chromium"):
        find_chromium()
    out = tmp_path / "out"
    assert main(["report", "--pdf", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt install chromium" in err and "Traceback" not in err
    assert not out.exists()


@needs_chromium
def test_report_renders_without_console_errors(report_html, tmp_path):
    png = tmp_path / "shot.png"
    assert screenshot(report_html, png) == []
    pixels = mpimg.imread(png)
    assert pixels.shape[1] == 1280 and pixels.std() > 0.05  # not a blank page


@needs_chromium
def test_console_errors_are_caught(report_html, tmp_path):
    """The check above can fail: a page with a script error reports it."""
    bad = tmp_path / "bad.html"
    bad.write_text(report_html.read_text().replace("</body>", "<script>undefinedFn()</script></body>"))
    lines = screenshot(bad, tmp_path / "bad.png")
    assert any("undefinedFn" in line for line in lines)


@needs_chromium
def test_pdf(report_html, tmp_path):
    pdf = tmp_path / "r.pdf"
    assert print_pdf(report_html, pdf) == []
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
