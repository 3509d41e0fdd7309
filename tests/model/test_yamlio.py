"""The hardened YAML reader: libyaml and pure-Python paths agree, every rule holds on both, and
reading stays linear and bounded."""

from __future__ import annotations

import gc
import time

import pytest
import yaml

from simlib.errors import ScenarioError
from simlib.model import yamlloader
from simlib.model.yamlio import parse_yaml
from simlib.model.yamlloader import MAX_VALUES, HardenedLoader
from tests.conftest import DATA

pytestmark = pytest.mark.hostile

QS = (DATA / "scenarios" / "quickstart.yaml").read_text(encoding="utf-8")
LOADERS = [pytest.param(HardenedLoader, id="python")]
if yamlloader.FAST_LOADER is not None:
    LOADERS.append(pytest.param(yamlloader.FAST_LOADER, id="libyaml"))


#: The value limit while the rules are tested (the real one costs a second per case to reach).
SMALL_LIMIT = 5_000


@pytest.fixture(params=LOADERS)
def only(request, monkeypatch):
    """parse_yaml with one loader only (the other path switched off) and a small value limit."""
    loader = request.param
    monkeypatch.setattr(yamlloader, "FAST_LOADER", None if loader is HardenedLoader else loader)
    monkeypatch.setattr(yamlloader, "MAX_VALUES", SMALL_LIMIT)
    return loader


GOOD = [
    QS,
    *sorted(p.read_text(encoding="utf-8") for p in (DATA / "scenarios").glob("*.yaml")),
    *sorted(p.read_text(encoding="utf-8") for p in (DATA / "sweeps").glob("*.yaml")),
    "a: 2025-13-01\nb: 2025-01-01T10:00:00\n",  # timestamps stay text
    "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\n",  # merge keys may be overridden
    "a: 'single \\n'\nb: \"double \\t \\u00e9\"\nc: |\n  block\n  text\nd: >\n  folded\n",
    "a: 0x1F\nb: 1_000\nc: .inf\nd: -.5e3\ne: ~\nf: [yes, no, on, off]\n",
    "a: " + "9" * 100 + "\n",  # the longest integer allowed
]


@pytest.mark.parametrize("text", GOOD, ids=range(len(GOOD)))
def test_both_loaders_read_the_same_data(text: str) -> None:
    python = yaml.load(text, Loader=HardenedLoader)
    assert parse_yaml(text, "f.yaml") == python
    if yamlloader.FAST_LOADER is not None:
        fast = yamlloader.FAST_LOADER(text)
        try:
            assert fast.get_single_data() == python
        finally:
            fast.dispose()


BAD: list[tuple[str, str, str]] = [
    (
        "surrogate-escape",
        'name: "\\ud800"\n',
        "line 1: invalid YAML: U+D800 is half of a UTF-16 pair",
    ),
    ("surrogate-in-key", '"\\udfff": 1\n', "U+DFFF"),
    ("surrogate-in-list", 'a: [ok, "x\\udc80y"]\n', "U+DC80"),
    ("binary-value", "seed: !!binary aGVsbG8=\n", "line 1: invalid YAML: 'seed': !!binary"),
    ("binary-in-list", "a: [!!binary aGVsbG8=]\n", "!!binary (no simlib field holds bytes)"),
    ("binary-top", "!!binary aGVsbG8=\n", "!!binary"),
    ("set", "a: !!set {x, y}\n", "'a': !!set"),
    ("omap", "a: !!omap [{x: 1}]\n", "'a': !!omap"),
    ("pairs", "a: !!pairs [{x: 1}]\n", "'a': !!pairs"),
    (
        "int-5000-digits",
        "seed: " + "9" * 5000 + "\n",
        "line 1: invalid YAML: an integer of 5,000 digits",
    ),
    ("int-101-digits", "seed: -" + "1" * 101 + "\n", "an integer of 101 digits"),
    ("int-tagged-long", "seed: !!int " + "7" * 300 + "\n", "an integer of 300 digits"),
    (
        "flow-100000-deep",
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "line 1: invalid YAML: nested deeper than 64",
    ),
    (
        "flow-map-100000-deep",
        "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
        "nested deeper than 64",
    ),
    (
        "block-3000-deep",
        "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        "line 64: invalid YAML: nested deeper",
    ),
    ("seq-3000-deep", "".join("  " * i + "-\n" for i in range(3000)), "nested deeper"),
    (
        "two-million-values",
        "junk: [" + ",".join(["1"] * 2_000_000) + "]\n",
        "line 1: invalid YAML: more than 5,000 values in one file; the list 'junk' starting on line 1",
    ),
    (
        "many-mappings",
        "strategies:\n" + "".join(f"  - {{name: s{i}, pin: none}}\n" for i in range(40_000)),
        "the list 'strategies' starting on line 2 has 1,000 entries so far",
    ),
    (
        "many-keys",
        "m:\n" + "".join(f"  k{i}: {i}\n" for i in range(60_000)),
        "the mapping 'm' starting on line 2 has 2,499 entries so far",
    ),
    (
        "duplicate-key",
        "a: 1\nb: 2\na: 3\n",
        "line 3: invalid YAML: duplicate key 'a' (first given on line 1)",
    ),
    ("control-char", "a: \x07\n", "line 1: not a YAML text file: character U+0007"),
    ("syntax", "a: [1, 2}\n", "line 1: invalid YAML: expected ',' or ']', but got '}'"),
    (
        "tab",
        "a:\n\tb: 1\n",
        "line 2: invalid YAML: found character '\\t' that cannot start any token",
    ),
    ("python-tag", "a: !!python/object/apply:os.system ['true']\n", "python/object/apply"),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [(t, f) for _, t, f in BAD], ids=[c for c, _, _ in BAD]
)
def test_hostile_text_is_one_line_on_both_paths(only, text: str, fragment: str) -> None:
    started = time.process_time()
    with pytest.raises(ScenarioError) as info:
        parse_yaml(text, "f.yaml")
    elapsed = time.process_time() - started
    message = str(info.value)
    assert "\n" not in message and message.startswith("f.yaml: "), message
    assert fragment in message, message
    assert elapsed < 3, f"{elapsed:.1f} s"


def test_surrogate_in_text_given_directly() -> None:
    with pytest.raises(ScenarioError, match=r"^x: line 2: invalid YAML: U\+D83D"):
        parse_yaml("a: 1\nb: \ud83d\n", "x")


def test_values_up_to_the_limit_are_read(only) -> None:
    # the mapping and the key are two values, the list a third
    assert (
        len(parse_yaml("a: [" + ",".join(["1"] * (SMALL_LIMIT - 3)) + "]\n", "f")["a"])
        == SMALL_LIMIT - 3
    )
    with pytest.raises(ScenarioError, match="more than 5,000 values"):
        parse_yaml("a: [" + ",".join(["1"] * (SMALL_LIMIT - 2)) + "]\n", "f")


def test_the_real_limit_is_reached_quickly() -> None:
    """2 million values in an unknown field took 30 s: refused after MAX_VALUES of them."""
    text = "name: x\njunk: [" + ",".join(["1"] * 2_000_000) + "]\n"
    started = time.process_time()
    with pytest.raises(
        ScenarioError, match=f"line 2: invalid YAML: more than {MAX_VALUES:,} values"
    ):
        parse_yaml(text, "f")
    assert time.process_time() - started < (5 if yamlloader.FAST_LOADER else 15)


def test_aliases_count_towards_expansion_not_values() -> None:
    # 20 000 uses of one anchor: few values written, each alias counted once
    text = "a: &x [1, 2]\nb: [" + ", ".join(["*x"] * 9_000) + "]\n"
    assert len(parse_yaml(text, "f")["b"]) == 9_000


def test_reading_time_is_linear_in_size() -> None:
    """A 10x larger document against the base one, timed in the same run."""

    def doc(n: int) -> str:
        rows = "".join(
            f"  - {{name: s{i}, pin: leaf_spki, backup: [next_key, 'ca:x']}}\n" for i in range(n)
        )
        return "strategies:\n" + rows

    # 400 rows take ~20 ms to read: enough to time, and the 10x document stays well under 1 s
    small, big = doc(400), doc(4_000)
    parse_yaml(small, "warm-up")
    timings = []
    for text in (small, big):  # best of five: one timing on a shared box is noise
        best = float("inf")
        for _ in range(5):
            gc.collect()
            gc.disable()  # the collector's pauses grow with the heap: time the reader alone
            try:
                started = time.process_time()  # this process's CPU: other load does not count
                parse_yaml(text, "f")
                best = min(best, time.process_time() - started)
            finally:
                gc.enable()
        timings.append(best)
    assert timings[0] > 0.01, timings  # large enough to time
    assert timings[1] < 20 * timings[0], timings


COUNTED = {
    "flow-list": "junk: [" + ",".join(["1"] * 20_000) + "]\n",
    "block-list-of-maps": "strategies:\n"
    + "".join(f"  - {{name: s{i}, pin: none}}\n" for i in range(3_000)),
    "mapping": "m:\n" + "".join(f"  k{i}: {i}\n" for i in range(4_000)),
    "nested": "a:\n  b:\n    - [1, 2]\n    - {c: [" + ",".join(["1"] * 8_000) + "]}\n",
    "complex-key": "? [" + ",".join(["1"] * 8_000) + "]\n: v\n",
    "aliases-first": "a: &x 1\nb: [" + ", ".join(["*x"] * 10_001) + "]\n",
    "values-then-aliases": "a: &x 1\nb: ["
    + ",".join(["2"] * 6_000)
    + ", "
    + ", ".join(["*x"] * 2_000)
    + "]\n",
    "syntax-error-early": "a: [1, 2}\n" + "b: [" + ",".join(["1"] * 8_000) + "]\n",
}


@pytest.mark.skipif(yamlloader.FAST_LOADER is None, reason="libyaml is not installed")
@pytest.mark.parametrize("text", COUNTED.values(), ids=COUNTED.keys())
def test_event_count_says_what_composing_says(monkeypatch, text: str) -> None:
    """Large texts are counted from libyaml's events before composing: same refusal, same line."""
    monkeypatch.setattr(yamlloader, "MAX_VALUES", SMALL_LIMIT)
    messages = []
    for counted in (True, False):
        if not counted:
            monkeypatch.setattr(yamlloader, "_count_values", lambda text: None)
        with pytest.raises(ScenarioError) as info:
            parse_yaml(text, "f")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
