"""Audit results and their renderings: text table, JSON and SARIF 2.1.0.

One verdict (:meth:`AuditReport.outcome`) decides the table header, the JSON ``result``, the
SARIF invocation's exit code and the process exit code, so they cannot disagree.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from simlib.toolkit.chain import OBSERVATION_RULES, PathCert
from simlib.toolkit.policy import SEVERITIES, Finding

_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_SARIF_LEVEL = {"info": "note", "warning": "warning", "error": "error"}
_LINE_RE = re.compile(r"line (\d+)")


@dataclass(frozen=True)
class Match:
    """Certificate ``index`` of the built path matched ``pin`` (from list ``kind``)."""

    index: int
    role: str
    subject: str
    pin: str
    kind: str = "pins"  # pins | leaf | ca (Apple's two identity lists)


@dataclass(frozen=True)
class Verdict:
    """What one platform does when the app connects to the host.

    ``status``: pass, fail, report-only (mismatch, not enforced), expired (pins off, fail open),
    bypassed (overridePins), not-pinned, invalid-config (the platform rejects the file).
    """

    platform: str
    status: str
    connects: bool
    policies: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """The audit's one verdict at a ``--fail-on`` threshold.

    ``result`` is ``fail`` exactly when ``exit_code`` is 1: some finding is at or above
    ``fail_on`` (never with ``none``). ``blocked`` lists the platforms whose connection fails;
    each also carries an error finding (``pin-mismatch`` or ``config-invalid``), so at the default
    threshold a blocked platform always fails the audit.
    """

    result: str  # pass | fail
    exit_code: int
    fail_on: str
    blocked: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]  # (severity, findings) from error down, non-zero only
    chain_problems: tuple[str, ...] = ()  # OBSERVATION_RULES found: the chain itself is rejected
    failing: tuple[tuple[str, int], ...] = ()  # (rule, findings) at or above fail_on
    statuses: tuple[tuple[str, str], ...] = ()  # (platform, verdict status)
    today: date | None = None

    @property
    def summary(self) -> str:
        """One sentence: the result, what decided it, what each platform does, e.g.
        ``FAIL (exit 1): 2 error findings (malformed-pin ×2); host not pinned on android;
        every platform connects``."""
        return f"{self.result.upper()} (exit {self.exit_code}): {'; '.join(self._parts())}"

    def _parts(self) -> list[str]:
        rank = _RANK.get(self.fail_on, len(_RANK))
        above = sum(n for s, n in self.counts if _RANK[s] >= rank)
        below = ", ".join(_plural(n, s) for s, n in self.counts if _RANK[s] < rank)
        if self.exit_code:
            what = "error finding" if self.fail_on == "error" else "finding"
            rules = ", ".join(f"{r} ×{n}" if n > 1 else r for r, n in self.failing)
            why = f"{_plural(above, what)} ({rules})"
            if self.fail_on != "error":
                why += f" at or above --fail-on {self.fail_on}"
            why += f", plus {below}" if below else ""
        elif self.fail_on == "none":
            counted = ", ".join(_plural(n, s) for s, n in self.counts)
            why = "--fail-on none" + (f" ({counted})" if counted else "")
        else:
            why = f"no finding at or above --fail-on {self.fail_on}"
            why += f" ({below} below it)" if below else ""
        parts = [why, *_status_phrases(self.statuses, self.blocked)]
        if self.chain_problems:
            said = " and ".join(dict.fromkeys(_CHAIN_PROBLEM[r] for r in self.chain_problems))
            on = f"on {self.today} " if self.today else ""
            parts.append(f"note: {on}{said} — every client rejects the chain, pinned or not")
        elif not self.blocked:
            parts.append("every platform connects")
        return parts


#: How the header says each OBSERVATION_RULES problem of the chain.
_CHAIN_PROBLEM = {
    "leaf-expired": "the leaf has expired",
    "leaf-not-yet-valid": "the leaf is not yet valid",
    "host-not-in-leaf": "the leaf is not issued to the host",
    "ca-expired": "a CA certificate has expired",
}
#: Verdict status → what the header says the platform does (``fail``/``invalid-config``: blocked).
_STATUS_PHRASE = {
    "pass": "pins match",
    "not-pinned": "host not pinned",
    "report-only": "pin mismatch only reported",
    "expired": "pins expired (not enforced)",
    "bypassed": "pins bypassed (overridePins)",
}


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _status_phrases(statuses: tuple[tuple[str, str], ...], blocked: tuple[str, ...]) -> list[str]:
    """``pins match`` when every platform matches, else one phrase per status with its platforms."""
    if not blocked and statuses and all(st == "pass" for _, st in statuses):
        return ["pins match"]
    groups: dict[str, list[str]] = {}
    for platform, status in statuses:
        if platform not in blocked:
            groups.setdefault(_STATUS_PHRASE.get(status, status), []).append(platform)
    out = [f"blocked on {', '.join(blocked)}"] if blocked else []
    return out + [f"{phrase} on {', '.join(ps)}" for phrase, ps in groups.items()]


@dataclass(frozen=True)
class AuditReport:
    host: str
    source: str
    format: str
    today: date
    path: tuple[PathCert, ...]
    verdicts: tuple[Verdict, ...]
    findings: tuple[Finding, ...]
    #: The recognised format's label (``Network Security Config``): with ``format``, what the
    #: file was read as, so a user sees a misdetection before trusting the verdict.
    format_label: str = ""

    @property
    def read_as(self) -> str:
        """``nsc: Network Security Config`` (the name alone when the format has no label)."""
        return f"{self.format}: {self.format_label}" if self.format_label else self.format

    @property
    def passed(self) -> bool:
        """Every platform connects with a matching pin (or by its rules without one)."""
        return all(v.status == "pass" for v in self.verdicts)

    @property
    def blocked(self) -> tuple[str, ...]:
        """Platforms on which the app cannot connect to the host."""
        return tuple(v.platform for v in self.verdicts if not v.connects)

    def outcome(self, fail_on: str = "error") -> Outcome:
        """The one verdict: ``fail`` (exit 1) when a finding at or above ``fail_on``
        (info|warning|error) exists, else ``pass`` (exit 0); ``none`` never fails."""
        if fail_on != "none" and fail_on not in _RANK:
            raise ValueError(
                f"fail_on must be one of none, {', '.join(SEVERITIES)}; got {fail_on!r}"
            )
        counts = tuple(
            (s, n)
            for s in reversed(SEVERITIES)
            if (n := sum(f.severity == s for f in self.findings))
        )
        failing = fail_on != "none" and any(
            _RANK[f.severity] >= _RANK[fail_on] for f in self.findings
        )
        problems = tuple(
            dict.fromkeys(f.rule for f in self.findings if f.rule in OBSERVATION_RULES)
        )
        failed = tuple(
            Counter(
                f.rule
                for f in self.findings
                if fail_on != "none" and _RANK[f.severity] >= _RANK[fail_on]
            ).items()
        )
        return Outcome(
            "fail" if failing else "pass",
            int(failing),
            fail_on,
            self.blocked,
            counts,
            problems,
            failed,
            tuple((v.platform, v.status) for v in self.verdicts),
            self.today,
        )

    def exit_code(self, fail_on: str = "error") -> int:
        """1 when a finding at or above ``fail_on`` (info|warning|error) exists; ``none``: 0."""
        return self.outcome(fail_on).exit_code

    def to_dict(self, fail_on: str = "error") -> dict:
        outcome = self.outcome(fail_on)
        return {
            "host": self.host,
            "config": self.source,
            "format": self.format,
            "format_label": self.format_label,
            "date": self.today.isoformat(),
            "result": outcome.result,
            "passed": outcome.result == "pass",
            "exit_code": outcome.exit_code,
            "fail_on": fail_on,
            "blocked": list(outcome.blocked),
            "chain_problems": list(outcome.chain_problems),
            "pins_matched": self.passed,
            "chain": [
                {
                    "index": c.index,
                    "role": c.role,
                    "subject": c.subject,
                    "served": c.served,
                    "origin": c.origin,
                    "spki_sha256": c.sha256,
                    "not_after": c.cert.not_valid_after_utc.isoformat(),
                }
                for c in self.path
            ],
            "platforms": [
                {
                    "platform": v.platform,
                    "status": v.status,
                    "connects": v.connects,
                    "policies": list(v.policies),
                    "detail": v.detail,
                    "matches": [m.__dict__ for m in v.matches],
                }
                for v in self.verdicts
            ],
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity,
                    "message": f.message,
                    "location": ": ".join(p for p in (f.source, f.where) if p),
                    "platforms": list(f.platforms),
                }
                for f in self.findings
            ],
        }

    def to_json(self, fail_on: str = "error") -> str:
        return json.dumps(self.to_dict(fail_on), indent=2)

    def to_table(self, fail_on: str = "error") -> str:
        lines = [
            f"audit {self.source} ({self.read_as}) for {self.host} on {self.today}: "
            f"{self.outcome(fail_on).summary}",
            "",
            "chain (built path):",
        ]
        for c in self.path:
            note = "" if c.served else f"  [not served; trusted from {c.origin}]"
            lines.append(f"  [{c.index}] {c.role:<12} sha256/{c.sha256}  {c.subject}{note}")
        lines += ["", f"  {'platform':<17} {'status':<14} matched"]
        for v in self.verdicts:
            hit = ", ".join(f"[{m.index}] {m.role}" for m in v.matches) or v.detail
            lines.append(f"  {v.platform:<17} {v.status:<14} {hit}")
        lines += ["", "findings:" if self.findings else "findings: none"]
        for f in sorted(self.findings, key=lambda f: -_RANK[f.severity]):
            where = ": ".join(p for p in (f.source, f.where) if p)
            plats = f" [{', '.join(f.platforms)}]" if f.platforms else ""
            at = f" ({where})" if where else ""
            lines.append(f"  {f.severity:<7} {f.rule:<20} {f.message}{plats}{at}")
        return "\n".join(lines) + "\n"

    def to_sarif(self, fail_on: str = "error") -> str:
        from simlib._version import __version__

        outcome = self.outcome(fail_on)
        rules = sorted({f.rule for f in self.findings})
        results = []
        for f in self.findings:
            loc: dict = {"physicalLocation": {"artifactLocation": {"uri": f.source or self.source}}}
            m = _LINE_RE.fullmatch(f.where)
            if m:
                loc["physicalLocation"]["region"] = {"startLine": int(m.group(1))}
            elif f.where:
                loc["logicalLocations"] = [{"fullyQualifiedName": f.where}]
            plats = f" [{', '.join(f.platforms)}]" if f.platforms else ""
            results.append(
                {
                    "ruleId": f.rule,
                    "ruleIndex": rules.index(f.rule),
                    "level": _SARIF_LEVEL[f.severity],
                    "message": {"text": f"{self.host}: {f.message}{plats}"},
                    "locations": [loc],
                }
            )
        doc = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "simlib-audit",
                            "version": __version__,
                            "rules": [
                                {"id": r, "shortDescription": {"text": r.replace("-", " ")}}
                                for r in rules
                            ],
                        }
                    },
                    "results": results,
                    # SARIF 2.1.0 §3.20: the exit code is the audit's own verdict.
                    "invocations": [{"executionSuccessful": True, "exitCode": outcome.exit_code}],
                    "properties": {
                        "result": outcome.result,
                        "format": self.format,
                        "formatLabel": self.format_label,
                        "failOn": fail_on,
                        "blocked": list(outcome.blocked),
                    },
                }
            ],
        }
        return json.dumps(doc, indent=2)
