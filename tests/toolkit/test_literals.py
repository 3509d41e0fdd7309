"""The literal scanner (simlib/toolkit/formats/literals.py): what it reads back is what was
written, in each language's spelling."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.toolkit import ConfigError
from simlib.toolkit.formats.literals import Reader, Unresolved, constants, tokenize

_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=12)
VALUES = st.recursive(
    st.one_of(_TEXT, st.booleans(), st.integers(0, 10**6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, min_size=1, max_size=4)
    ),
    max_leaves=20,
)


def _quote(text: str, objc: bool) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return ("@" if objc else "") + f'"{body}"'


def render(value: object, lang: str) -> str:
    """``value`` as a Swift, Objective-C or JavaScript literal."""
    objc = lang == "objc"
    if isinstance(value, bool):
        return (
            {"swift": "true", "js": "true", "objc": "@YES"}[lang]
            if value
            else {
                "swift": "false",
                "js": "false",
                "objc": "@NO",
            }[lang]
        )
    if isinstance(value, int):
        return f"@({value})" if objc else str(value)
    if isinstance(value, str):
        return _quote(value, objc)
    if isinstance(value, list):
        items = ", ".join(render(v, lang) for v in value)
        return f"@[{items}]" if objc else f"[{items}]"
    pairs = ", ".join(f"{_quote(k, objc)}: {render(v, lang)}" for k, v in value.items())
    if lang == "swift":
        return f"[{pairs}]"
    return f"@{{{pairs}}}" if objc else f"{{{pairs}}}"


@settings(max_examples=200)
@given(value=VALUES, lang=st.sampled_from(["swift", "objc", "js"]))
def test_a_literal_reads_back_as_written(value, lang):
    if lang == "swift" and value == {}:
        return
    text = render(value, lang)
    toks = tokenize(text, "x")
    read, end = Reader(toks, "x").value(0)
    assert json.dumps(read, sort_keys=True) == json.dumps(value, sort_keys=True)
    assert end == len(toks)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[:]", {}),
        ("[]", []),
        ("['a', 'b',]", ["a", "b"]),  # trailing commas
        ('"sha256/" + "abc"', "sha256/abc"),
        (
            "{includeSubdomains: true, publicKeyHashes: []}",
            {"includeSubdomains": True, "publicKeyHashes": []},
        ),
        ('/* c */ [ // x\n "a" ]', ["a"]),
    ],
)
def test_spellings(text, value):
    assert Reader(tokenize(text, "x"), "x").value(0)[0] == value


def test_constants_of_each_language():
    text = """
    let swiftPin = "s"
    static NSString *const kObjcPin = @"o";
    const val KOTLIN_PIN: String = "k"
    private static final String JAVA_PIN = "j";
    const JS_PIN = 'js';
    var twice = "a"
    twice = "b"
    let notAString = 1 == 2
    """
    strings, _ = constants(tokenize(text, "x"))
    assert strings == {
        "swiftPin": "s",
        "kObjcPin": "o",
        "KOTLIN_PIN": "k",
        "JAVA_PIN": "j",
        "JS_PIN": "js",
    }  # a name given two values is not guessed


def test_templates_resolve_or_stay_unresolved():
    toks = tokenize('const val K = "abc"\n"sha256/$K" "sha256/${K}" "sha256/$OTHER"', "x")
    reader = Reader(toks, "x", templates=True)
    assert reader.value(5)[0] == "sha256/abc"
    assert reader.value(6)[0] == "sha256/abc"
    missing = reader.value(7)[0]
    assert isinstance(missing, Unresolved) and "$OTHER" in str(missing)


def test_line_numbers_count_every_newline():
    toks = tokenize('a\n/* 1\n2 */ "x\\\ny" `p\nq` """r\ns"""\nz', "x")
    assert [(t.text, t.line) for t in toks] == [
        ("a", 1),
        ("x\ny", 3),
        ("p\nq", 4),
        ("r\ns", 5),
        ("z", 7),
    ]


def test_unexpected_tokens_are_one_line_errors():
    with pytest.raises(ConfigError, match="line 2: unexpected ';'"):
        Reader(tokenize("[\n;]", "f"), "f").value(0)


def test_js_property_names_are_keys_but_swift_names_are_expressions():
    text = 'const includeSubdomains = "x"\nlet k = "K"\n{includeSubdomains: 1} [k: 2] @{k: 3}'
    toks = tokenize(text, "x")
    reader = Reader(toks, "x")
    starts = [i for i, t in enumerate(toks) if t.text in ("{", "[") or t.text == "@"]
    assert reader.value(starts[0])[0] == {"includeSubdomains": 1}
    assert reader.value(starts[1])[0] == {"K": 2}
    assert reader.value(starts[2])[0] == {"K": 3}
