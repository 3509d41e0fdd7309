"""Audit results and their renderings: text table, JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from simlib.toolkit.chain import PathCert
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
class AuditReport:
    host: str
    source: str
    format: str
    today: date
    path: tuple[PathCert, ...]
    verdicts: tuple[Verdict, ...]
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        """Every platform connects with a matching pin (or by its rules without one)."""
        return all(v.status == "pass" for v in self.verdicts)

    def exit_code(self, fail_on: str = "error") -> int:
        """1 when a finding at or above ``fail_on`` (info|warning|error) exists; ``none``: 0."""
        if fail_on == "none":
            return 0
        if fail_on not in _RANK:
            raise ValueError(
                f"fail_on must be one of none, {', '.join(SEVERITIES)}; got {fail_on!r}"
            )
        return int(any(_RANK[f.severity] >= _RANK[fail_on] for f in self.findings))

    def to_dict(self) -> dict:
        return {
            "host": self.host,
            "config": self.source,
            "format": self.format,
            "date": self.today.isoformat(),
            "passed": self.passed,
            "chain": [
                {
                    "index": c.index,
                    "role": c.role,
                    "subject": c.subject,
                    "served": c.served,
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

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_table(self) -> str:
        lines = [
            f"audit {self.source} for {self.host} on {self.today}"
            f" ({'PASS' if self.passed else 'FAIL'})",
            "",
            "chain (built path):",
        ]
        for c in self.path:
            note = "" if c.served else "  [anchor, not served]"
            lines.append(f"  [{c.index}] {c.role:<12} sha256/{c.sha256}  {c.subject}{note}")
        lines += ["", f"  {'platform':<17} {'status':<14} matched"]
        for v in self.verdicts:
            hit = ", ".join(f"[{m.index}] {m.role}" for m in v.matches) or v.detail
            lines.append(f"  {v.platform:<17} {v.status:<14} {hit}")
        lines += ["", "findings:" if self.findings else "findings: none"]
        for f in sorted(self.findings, key=lambda f: -_RANK[f.severity]):
            where = ": ".join(p for p in (f.source, f.where) if p)
            plats = f" [{', '.join(f.platforms)}]" if f.platforms else ""
            lines.append(f"  {f.severity:<7} {f.rule:<20} {f.message}{plats} ({where})")
        return "\n".join(lines) + "\n"

    def to_sarif(self) -> str:
        from simlib._version import __version__

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
                }
            ],
        }
        return json.dumps(doc, indent=2)
