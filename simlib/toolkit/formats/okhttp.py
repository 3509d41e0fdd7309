"""OkHttp ``CertificatePinner``: Kotlin/Java source with ``.add(pattern, pins…)`` calls, or a
plain ``pattern sha256/BASE64`` list (:mod:`simlib.toolkit.okhttp` holds OkHttp's rules).

In source the pattern and pins may be same-file constants (``const val HOST = "…"``,
``static final String PIN = "…"``, ``"sha256/$KEY"`` templates, ``+`` concatenation): they are
resolved. A pattern that is not (``BuildConfig.API_HOST``) is taken from ``host=`` (``--host``)
with an info finding saying so, and refused without it; an unresolvable pin is refused.
"""

from __future__ import annotations

from simlib.toolkit import hostnames
from simlib.toolkit.formats.base import (
    ConfigFormat,
    EmitInput,
    Parsed,
    PlatformRule,
    Sniff,
    Writer,
    choose_platforms,
    decode_text,
)
from simlib.toolkit.formats.literals import Reader, Unresolved, is_punct, tokenize
from simlib.toolkit.formats.text import kotlin_comment, kotlin_string
from simlib.toolkit.policy import ConfigError, Finding

_PIN_PREFIXES = ("sha256/", "sha1/")
_NOT_A_CALL = ConfigError("", "", "not an argument list")  # raised often: made once
_OWN_SUFFIXES = frozenset({"", ".txt", ".kt", ".kts", ".java", ".pins"})


def detect(sniff: Sniff) -> int:
    text = sniff.text or ""
    if not text.strip() or "\x00" in text or sniff.head.startswith(("<", "{", "[")):
        return 0
    if "CertificatePinner" in text:
        return 85
    if "sha256/" in text or "sha1/" in text:
        return 40
    # A pin list or Kotlin/Java file without a pin: OkHttp's parser says what is missing.
    return 5 if sniff.suffix in _OWN_SUFFIXES else 0


def _is_pin(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith(_PIN_PREFIXES)


def _may_start_value(toks: list, i: int) -> bool:
    if i >= len(toks):
        return False
    tok = toks[i]
    return tok.kind in ("str", "name", "num") or tok.text in ("@", "(", "[", "{")


def source_entries(
    text: str, source: str, host: str | None, notes: list[Finding]
) -> list[tuple[str, str, str]] | None:
    """Entries of the ``.add(…)`` pin calls in Kotlin/Java source, or None if there are none.

    A call is a pin call when an argument after the first is a ``sha256/``/``sha1/`` string, or
    when the file names ``CertificatePinner`` and the call has a pattern and a pin argument.
    The search resumes after each call read, so no token is read twice.
    """
    if ".add" not in text:
        return None  # a pin list: no need to tokenize it
    toks = tokenize(text, source)
    reader = Reader(toks, source, templates=True)
    pinner = "CertificatePinner" in text
    entries: list[tuple[str, str, str]] = []
    found = False
    k = 1
    while k + 1 < len(toks):
        tok = toks[k]
        if not (tok.kind == "name" and tok.text == "add" and is_punct(toks, k - 1, ".")):
            k += 1
            continue
        if not is_punct(toks, k + 1, "(") or not _may_start_value(toks, k + 2):
            k += 1  # cheap refusal first: an exception per hostile ".add(" costs too much
            continue
        args: list[object] = []
        j = k + 2
        try:
            while not is_punct(toks, j, ")"):
                if not _may_start_value(toks, j):
                    reader.furthest = max(reader.furthest, j)
                    raise _NOT_A_CALL
                value, j = reader.value(j)
                args.append(value)
                if is_punct(toks, j, ","):
                    j += 1
                elif not is_punct(toks, j, ")"):
                    reader.furthest = max(reader.furthest, j)
                    raise _NOT_A_CALL
        except ConfigError:
            # Not a call of literals (some other .add(…)): go on after what was read, so no
            # token is read twice (a pin call never sits inside another call's arguments).
            k = max(k + 1, reader.furthest)
            continue
        k = j + 1
        where = f"line {tok.line}"
        if len(args) < 2 or not (any(_is_pin(a) for a in args[1:]) or pinner):
            continue
        found = True
        for arg in args[1:]:
            if isinstance(arg, Unresolved):
                raise ConfigError(
                    source,
                    where,
                    f".add(): pin {arg} is not a string literal or a constant of this file; "
                    "write the pin in the file (pins cannot be guessed)",
                )
            if not isinstance(arg, str):
                raise ConfigError(source, where, ".add(): pins must be strings")
        pattern = args[0]
        if isinstance(pattern, Unresolved) or not isinstance(pattern, str):
            if host is None:
                raise ConfigError(
                    source,
                    where,
                    f".add(): the pattern {pattern} is not a string literal or a constant of "
                    "this file: give the host it stands for with --host",
                )
            notes.append(
                Finding(
                    "pattern-from-host",
                    "info",
                    f"the pattern {pattern} is not a literal or a same-file constant; "
                    f"audited as {host} (from --host)",
                    source,
                    where,
                    ("okhttp",),
                )
            )
            pattern = host
        entries += [(pattern, str(pin), where) for pin in args[1:]]
    return entries if found else None


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    from simlib.toolkit.okhttp import build_policies, literal_entries

    text = decode_text(sniff)
    out = Parsed(choose_platforms(FORMAT, platform, (), sniff.source))
    entries = source_entries(text, sniff.source, host, out.findings)
    if entries is None:
        entries = literal_entries(text, sniff.source)
    policies, notes = build_policies(entries, sniff.source)
    out.policies += policies
    out.findings += notes
    return out


def write(spec: EmitInput) -> str:
    host = spec.host
    # "**." covers any depth, as NSC and TrustKit; ATS covers one label (emit warns).
    pattern = kotlin_string(f"**.{host}" if spec.include_subdomains else host)
    lines = [
        "// OkHttp has no pin expiry: pins stay until an app update replaces them.",
        "val certificatePinner = CertificatePinner.Builder()",
    ]
    lines += [
        f'    .add("{pattern}", "sha256/{kotlin_string(v)}") // {kotlin_comment(c)}'
        for v, c in spec.pins
    ]
    lines += ["    .build()"]
    return "\n".join(lines) + "\n"


RULE = PlatformRule(
    "okhttp",
    hostnames.okhttp_select,
    "it can never match",
    wrong_length_breaks=False,
    client=("android", "okhttp"),
)

FORMAT = ConfigFormat(
    name="okhttp",
    label="OkHttp CertificatePinner",
    title="OkHttp CertificatePinner (Kotlin/Java .add() calls or 'pattern sha256/…' lines)",
    detect=detect,
    parse=parse,
    platform_choices={None: ("okhttp",), "okhttp": ("okhttp",), "android": ("okhttp",)},
    rules=(RULE,),
    writer=Writer("okhttp", "CertificatePinner.kt", write, platforms=("okhttp",)),
)
