"""The seed questions of certificate pinning, answered by simulating the scenario at hand.

Each question function takes a :class:`~simlib.model.Scenario`, builds the comparison variants
from the scenario's own hosts, CAs and strategies (dotted-path overrides on its resolved form,
strategy specs as in ``docs/scenario.md``), simulates them in expected mode and returns an
:class:`Answer`: the question, a tidy table (one row per *world* — the scenario, or the scenario
with one change — and strategy) and an answer built only from the numbers in that table.

Questions: :func:`spki_vs_certificate`, :func:`backup_other_ca`, :func:`dynamic_pinning`,
:func:`pin_expiry`, :func:`report_only_first`; :func:`what_if_validity` applies one
certificate lifetime to every host. :func:`headline` and :func:`describe` explain one result.
"""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simlib.api import simulate
from simlib.model import DynamicSpec, Scenario, ScenarioWarning, apply_overrides
from simlib.report.plots import readable

#: World label of the scenario as given.
AS_GIVEN = "as given"
#: Pin expiries (days after the build) compared by :func:`pin_expiry`.
EXPIRY_DAYS: tuple[int, ...] = (90, 180, 365)
#: Name of the CA added when a scenario has no spare CA to back up to.
BACKUP_CA = "Backup CA"


@dataclass(frozen=True)
class Answer:
    """A question, the simulated numbers behind it and the answer they give."""

    question: str
    table: pd.DataFrame = field(repr=False)
    text: str
    #: What the simulator cannot model for this question (empty when everything is modelled).
    caveat: str = ""

    def markdown(self) -> str:
        """The question in bold, the answer, and what is not modelled."""
        out = f"**{self.question}** {self.text}"
        return out + (f"\n\n*Not modelled:* {self.caveat}" if self.caveat else "")

    def readable(self) -> pd.DataFrame:
        """The table's main columns with names in words (for display)."""
        return readable_table(self.table)


#: Answer-table columns shown by :meth:`Answer.readable`, in order, with their names in words.
READABLE_COLUMNS: dict[str, str] = {
    "world": "world",
    "strategy": "strategy",
    "mode": "mode",
    "expires_after_days": "pins expire after (days)",
    "certificate_changes": "certificate changes",
    "breaks": "breaks",
    "locked_user_days": "locked user-days",
    "mean_lockout": "locked share (mean day)",
    "peak_lockout": "peak locked share",
    "users_ever_locked": "users ever locked",
    "first_lockout": "first lockout",
    "peak_violation": "peak share reporting a pin failure",
    "first_violation": "first pin-failure report",
    "protected_mean": "protected share (mean over attacks)",
}


def readable_table(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of :data:`READABLE_COLUMNS` present in ``table``, renamed; a ``world`` column
    holding one value is dropped; report columns only when something was reported."""
    cols = [c for c in READABLE_COLUMNS if c in table]
    if "world" in cols and table["world"].nunique() == 1:
        cols.remove("world")
    if "mode" not in table:
        cols = [c for c in cols if c not in ("peak_violation", "first_violation")]
    return table[cols].rename(columns=READABLE_COLUMNS)


def frontier(front: pd.DataFrame) -> pd.DataFrame:
    """Per attack class, the strategies on the Pareto frontier of :func:`simlib.report.decision.pareto`
    and those dominated (another strategy locks no more users and protects at least as many)."""
    rows = []
    for attack, g in front.groupby("attack", sort=False):
        rows.append(
            {
                "attack": readable(attack),
                "on the frontier": ", ".join(map(str, g.loc[~g["dominated"], "strategy"])),
                "dominated": ", ".join(map(str, g.loc[g["dominated"], "strategy"])) or "–",
            }
        )
    return pd.DataFrame(rows, columns=["attack", "on the frontier", "dominated"])


# ------------------------------------------------------------------------------ formatting
def _pct(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if v == 0:
        return "0 %"
    if abs(v) < 0.001:
        return "< 0.1 %"
    return f"{v:.1%}".replace("%", " %") if abs(v) < 0.1 else f"{v:.0%}".replace("%", " %")


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _pp(v: float) -> str:
    return f"{v * 100:+.1f} points"


def _date(v: Any) -> str:
    return "never" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _join(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ------------------------------------------------------------------------------ scenario edits
def _base(sc: Scenario) -> dict[str, Any]:
    """The resolved scenario as a dict, ready for its strategies to be replaced: a fix strategy
    named by reference is inlined, and an attack is scored even when the scenario lists none."""
    data = copy.deepcopy(sc.to_dict())
    ir = data.get("incident_response")
    if ir and isinstance(ir.get("fix_strategy"), str):
        spec = next((s for s in data["strategies"] if s["name"] == ir["fix_strategy"]), None)
        ir["fix_strategy"] = None if spec is None else {**spec, "dynamic": None}
    if not data.get("attacks"):
        data["attacks"] = ["rogue_ca"]
    return data


def _scenario(data: dict[str, Any], overrides: dict[str, Any]) -> Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return apply_overrides(data, overrides)


def _strategy(name: str, pin: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "pin": pin, **options}


def _numbered(name: str):
    yield name
    for i in range(2, 1000):
        yield f"{name} {i}"


def _midpoint(sc: Scenario) -> dt.date:
    return sc.start + (sc.end - sc.start) / 2


# ------------------------------------------------------------------------------ simulating
def _metrics(res, world: str) -> pd.DataFrame:
    """One row per strategy of one simulated world."""
    s = res.summary.set_index("strategy")
    d = res.duration_stats.set_index("strategy")
    ts = res.timeseries
    labels = [c.removeprefix("mean_protected_") for c in s if c.startswith("mean_protected_")]
    rows = []
    for name in s.index:
        g = ts[ts["strategy"] == name]
        violating = g.loc[g["pin_violation_rate"] > 0, "date"]
        row = {
            "world": world,
            "strategy": name,
            "certificate_changes": int(s.at[name, "certificate_changes"]),
            "breaks": int(s.at[name, "lockout_events"]),
            "locked_user_days": float(s.at[name, "locked_user_days"]),
            "mean_lockout": float(s.at[name, "mean_lockout_rate"]),
            "peak_lockout": float(s.at[name, "peak_lockout_rate"]),
            "users_ever_locked": float(d.at[name, "users_ever_locked"]),
            "first_lockout": pd.to_datetime(s.at[name, "first_lockout_date"]),
            "violation_user_days": float(s.at[name, "pin_violation_user_days"]),
            "peak_violation": float(g["pin_violation_rate"].max()),
            "first_violation": violating.min() if len(violating) else pd.NaT,
        }
        for a in labels:
            row[f"protected_{a}"] = float(s.at[name, f"mean_protected_{a}"])
        row["protected_mean"] = float(np.mean([row[f"protected_{a}"] for a in labels]))
        rows.append(row)
    return pd.DataFrame(rows)


def compare(worlds: dict[str, Scenario]) -> pd.DataFrame:
    """Simulate each world (expected mode) and stack their per-strategy metrics."""
    return pd.concat(
        [_metrics(simulate(w), label) for label, w in worlds.items()], ignore_index=True
    )


def _row(table: pd.DataFrame, strategy: str, world: str = AS_GIVEN) -> pd.Series:
    return table[(table["world"] == world) & (table["strategy"] == strategy)].iloc[0]


def _over(table: pd.DataFrame) -> str:
    """A sentence saying what a protected share is averaged over."""
    names = _attack_names(table)
    what = f"the {len(names)} attacks scored" if len(names) > 1 else "the one attack scored"
    return (
        f"Protected shares are averaged over days and over {what} ({_join(names)}); "
        "locked users count as unprotected."
    )


def _attack_names(table: pd.DataFrame) -> list[str]:
    return [readable(c) for c in table if c.startswith("protected_") and c != "protected_mean"]


# ------------------------------------------------------------------------------ SPKI vs certificate
def _keys_reused(data: dict[str, Any]) -> dict[str, Any]:
    hosts = copy.deepcopy(data["hosts"])
    for h in hosts:
        h["key_policy"] = "reuse"
        for step in h.get("policy_schedule") or []:
            if step.get("key_policy") is not None:
                step["key_policy"] = "reuse"
    return hosts


def spki_vs_certificate(sc: Scenario) -> Answer:
    """A pin on the leaf certificate vs a pin on its key (SPKI), with the scenario's key policy
    and with every host reusing its key at renewal."""
    data = _base(sc)
    cert, spki = "certificate pin", "key (SPKI) pin"
    strategies = [_strategy(cert, "leaf_cert"), _strategy(spki, "leaf_spki")]
    worlds = {AS_GIVEN: _scenario(data, {"strategies": strategies})}
    reused = _keys_reused(data)
    reuse_label = "keys reused at renewal"
    if reused != data["hosts"]:
        worlds[reuse_label] = _scenario(data, {"strategies": strategies, "hosts": reused})
    table = compare(worlds)
    parts = []
    for world in worlds:
        c, k = _row(table, cert, world), _row(table, spki, world)
        where = "As given" if world == AS_GIVEN else "With every key reused at renewal"
        parts.append(
            f"{where} ({c['certificate_changes']} certificate changes), a certificate pin broke "
            f"{c['breaks']} times ({_n(c['locked_user_days'])} locked user-days, peak "
            f"{_pct(c['peak_lockout'])}) and a key pin {k['breaks']} times "
            f"({_n(k['locked_user_days'])} locked user-days, peak {_pct(k['peak_lockout'])})."
        )
    c, k = _row(table, cert), _row(table, spki)
    if reuse_label in worlds:
        kr = _row(table, spki, reuse_label)
        saved = 1 - kr["locked_user_days"] / c["locked_user_days"] if c["locked_user_days"] else 0.0
        parts.append(
            f"Reusing keys would bring the key pin to {_n(kr['locked_user_days'])} locked user-days"
            + (f", {_pct(saved)} fewer than the certificate pin as given." if saved > 0 else ".")
        )
    elif k["locked_user_days"] < c["locked_user_days"]:
        parts.append("Every host already reuses its key, so renewals keep the key pin valid.")
    prot = [
        f"{_pct(_row(table, cert, w)['protected_mean'])} vs {_pct(_row(table, spki, w)['protected_mean'])}"
        + ("" if w == AS_GIVEN else " with keys reused")
        for w in worlds
    ]
    parts.append(f"Users protected, certificate vs key pin: {'; '.join(prot)} ({_over(table)}).")
    return Answer("Pin the certificate or its public key (SPKI)?", table, " ".join(parts))


# ------------------------------------------------------------------------------ backup CA
def _backup_target(sc: Scenario) -> tuple[str | None, str | None]:
    """(backup CA, world label) when the scenario itself moves hosts to another CA."""
    for e in sc.events:
        if e.type == "ca_migration":
            return e.to, f"hosts migrate to {e.to} on {_date(e.date)} (a scenario event)"
        if e.type == "ca_distrust" and getattr(e, "replacement", None):
            return e.replacement, (
                f"{e.ca} is distrusted on {_date(e.date)} and hosts move to {e.replacement} "
                "(a scenario event)"
            )
    return None, None


def _spare_ca(sc: Scenario) -> str | None:
    """A CA of the scenario that no host uses, that strategies already name as a backup, that
    cross-signs nothing and whose root outlives the scenario."""
    used = {h.ca for h in sc.hosts}
    signers = {c.cross_signed_by.ca for c in sc.cas if c.cross_signed_by is not None}
    named = [
        str(b).removeprefix("ca:")
        for s in sc.strategies
        for b in s.backup
        if str(b).startswith("ca:")
    ]
    cas = {c.name: c for c in sc.cas}
    for name in named:
        ca = cas.get(name)
        if (
            ca is not None
            and name not in used | signers
            and (ca.root_not_after is None or ca.root_not_after > sc.end)
        ):
            return name
    return None


def backup_other_ca(sc: Scenario) -> Answer:
    """Root and intermediate pins with and without a backup pin on another CA's root, in the
    scenario and — unless it already moves CA — with every host moved to that CA mid-way."""
    data = _base(sc)
    target, label = _backup_target(sc)
    worlds_over: dict[str, dict[str, Any]] = {AS_GIVEN: {}}
    if target is None:
        target = _spare_ca(sc)
        if target is None:
            names = {c["name"] for c in data["cas"]}
            target = next(n for n in _numbered(BACKUP_CA) if n not in names)
            data["cas"] = [*data["cas"], {"name": target}]
        when = _midpoint(sc)
        label = f"every host moves to {target} on {_date(when)}"
        event = {
            "type": "ca_migration",
            "date": when.isoformat(),
            "to": target,
            "when": "immediate",
        }
        worlds_over[label] = {"events": [*data.get("events", []), event]}
    pairs = [("root", "root_spki"), ("intermediate", "intermediate_spki")]
    strategies = []
    for word, pin in pairs:
        strategies += [
            _strategy(f"{word} pin", pin),
            _strategy(f"{word} pin + {target} root", pin, backup=[f"ca:{target}"]),
        ]
    worlds = {w: _scenario(data, {"strategies": strategies, **o}) for w, o in worlds_over.items()}
    table = compare(worlds)
    world = label if label in worlds else AS_GIVEN
    parts = []
    for word, _ in pairs:
        alone, backed = (
            _row(table, f"{word} pin", world),
            _row(table, f"{word} pin + {target} root", world),
        )
        parts.append(
            f"{_article(word)} {word} pin alone locked {_n(alone['locked_user_days'])} user-days "
            f"(peak {_pct(alone['peak_lockout'])}, {_pct(alone['protected_mean'])} protected), "
            f"with {target}'s root as a backup {_n(backed['locked_user_days'])} (peak "
            f"{_pct(backed['peak_lockout'])}, {_pct(backed['protected_mean'])} protected)"
        )
    text = f"When {label}: " + "; ".join(parts) + "."
    if world != AS_GIVEN:
        extra = [
            _row(table, f"{w} pin + {target} root")["locked_user_days"]
            - _row(table, f"{w} pin")["locked_user_days"]
            for w, _ in pairs
        ]
        text += (
            f" Without the move the backup changes locked user-days by "
            f"{_join([_n(x) for x in extra])} for the root and the intermediate pin."
        )
    text += f" {_over(table)}"
    return Answer(f"Add a backup pin from a different CA ({target})?", table, text)


# ------------------------------------------------------------------------------ dynamic pinning
def dynamic_pinning(sc: Scenario) -> Answer:
    """Static leaf-key pins vs a remote pin list (simlib's dynamic defaults), failing open or
    closed when the list is stale, with a static root pin for reference."""
    data = _base(sc)
    d = DynamicSpec()
    static, dyn_open, dyn_closed, root = (
        "leaf key, static",
        "leaf key, dynamic list (fail open)",
        "leaf key, dynamic list (fail closed)",
        "root key, static",
    )
    strategies = [
        _strategy(static, "leaf_spki"),
        _strategy(dyn_open, "leaf_spki", dynamic={"on_stale": "fail_open"}),
        _strategy(dyn_closed, "leaf_spki", dynamic={"on_stale": "fail_closed"}),
        _strategy(root, "root_spki"),
    ]
    table = compare({AS_GIVEN: _scenario(data, {"strategies": strategies})})
    s, o, c, r = (_row(table, n) for n in (static, dyn_open, dyn_closed, root))
    attacks = _join(_attack_names(table))
    text = (
        f"A pin list the app refreshes every {d.refresh_days} day{'s' if d.refresh_days != 1 else ''} "
        f"(each fetch succeeds with probability {_pct(d.fetch_success)}, keys published {d.publish_ahead_days} days ahead, "
        f"stale after {d.max_age_days} days) locked {_n(o['locked_user_days'])} user-days failing "
        f"open and {_n(c['locked_user_days'])} failing closed, against "
        f"{_n(s['locked_user_days'])} for leaf-key pins fixed at build time and "
        f"{_n(r['locked_user_days'])} for a static root pin. Protection averaged over {attacks}: "
        f"{_pct(o['protected_mean'])} (fail open), {_pct(c['protected_mean'])} (fail closed), "
        f"{_pct(s['protected_mean'])} (static leaf key), {_pct(r['protected_mean'])} (root)."
    )
    caveat = (
        "The pin-list endpoint is modelled as unpinned and always trustworthy; a compromised "
        "list server is not simulated."
    )
    return Answer("Does dynamic pinning (a remotely updated pin list) help?", table, text, caveat)


# ------------------------------------------------------------------------------ pin expiry
def pin_expiry(sc: Scenario, days: tuple[int, ...] = EXPIRY_DAYS) -> Answer:
    """Leaf-key pins without expiry vs pins switched off ``days`` after the build (fail open)."""
    data = _base(sc)
    never = "leaf key, no expiry"
    names = {n: f"leaf key, expires after {n} days" for n in days}
    strategies = [_strategy(never, "leaf_spki")] + [
        _strategy(names[n], "leaf_spki", expires_after_days=n) for n in days
    ]
    table = compare({AS_GIVEN: _scenario(data, {"strategies": strategies})})
    table["expires_after_days"] = table["strategy"].map({v: k for k, v in names.items()})
    base = _row(table, never)
    attacks = _join(_attack_names(table))
    each = [
        f"{n} days: {_n(_row(table, names[n])['locked_user_days'])} "
        f"({_pct(_row(table, names[n])['protected_mean'])} protected)"
        for n in days
    ]
    text = (
        f"Leaf-key pins that never expire locked {_n(base['locked_user_days'])} user-days and "
        f"protected {_pct(base['protected_mean'])} of users on average over {attacks}. "
        f"Switched off after " + "; ".join(each) + "."
    )
    short = _row(table, names[min(days)])
    if base["locked_user_days"] > 0:
        cut = 1 - short["locked_user_days"] / base["locked_user_days"]
        text += (
            f" The shortest expiry removes {_pct(cut)} of the lockout and costs "
            f"{_pp(short['protected_mean'] - base['protected_mean']).lstrip('+-')} of protection:"
            " expired pins fail open on exactly the old versions that renewals lock out."
            if cut > 0
            else " Expiry does not reduce the lockout here: it happens on versions younger than any expiry."
        )
    else:
        text += " These pins never lock anyone here, so expiry only gives up protection."
    return Answer("Should pins expire?", table, text)


# ------------------------------------------------------------------------------ report-only
def report_only_first(sc: Scenario) -> Answer:
    """Each pinning strategy of the scenario enforced and in report-only mode (``enforce:
    false``), next to not pinning at all: what the reports would have shown, and from which
    day, against what enforcing costs."""
    data = _base(sc)
    own = [s for s in data["strategies"] if s["pin"] != "none"] or [
        _strategy("leaf key", "leaf_spki")
    ]
    taken = {s["name"] for s in own}
    baseline = next(n for n in _numbered("no pinning (baseline)") if n not in taken)
    strategies = [_strategy(baseline, "none")]
    for s in own:
        strategies += [
            {**s, "enforce": True},
            {**s, "name": f"{s['name']} (report-only)", "enforce": False},
        ]
    table = compare({AS_GIVEN: _scenario(data, {"strategies": strategies})})
    table["mode"] = np.where(
        table["strategy"].str.endswith(" (report-only)"), "report-only", "enforced"
    )
    table.loc[table["strategy"] == baseline, "mode"] = "no pins"
    base = _row(table, baseline)
    reports = table[table["mode"] == "report-only"]
    enforced = table[table["mode"] == "enforced"]
    extra_locked = float((reports["locked_user_days"] - base["locked_user_days"]).abs().max())
    extra_prot = float((reports["protected_mean"] - base["protected_mean"]).abs().max())
    text = (
        f"In report-only mode every strategy locked and protected like not pinning at all "
        f"({_n(base['locked_user_days'])} locked user-days, {_pct(base['protected_mean'])} "
        f"protected; largest difference {_n(extra_locked)} user-days and "
        f"{_pp(extra_prot).lstrip('+')})."
    )
    breaking = enforced[enforced["locked_user_days"] > base["locked_user_days"] + 0.5]
    if len(breaking):
        firsts = []
        for name in breaking["strategy"]:
            r = _row(table, f"{name} (report-only)")
            day = (
                (pd.Timestamp(r["first_violation"]) - pd.Timestamp(sc.start)).days
                if pd.notna(r["first_violation"])
                else None
            )
            firsts.append((day, str(name), r))
        firsts.sort(key=lambda f: (f[0] is None, f[0] if f[0] is not None else 0))
        listed = [
            f"{n} on day {d} ({_date(r['first_violation'])})" for d, n, r in firsts if d is not None
        ]
        if listed:
            text += (
                f" Enforced, {len(breaking)} of {len(enforced)} pinning strategies lock users out; their "
                f"reports would have flagged the first failure for {_join(listed)}."
            )
        worst = breaking.sort_values("locked_user_days").iloc[-1]
        r = _row(table, f"{worst['strategy']} (report-only)")
        text += (
            f" For {worst['strategy']} the reports flag up to {_pct(r['peak_violation'])} of users a "
            f"day ({_n(r['violation_user_days'])} failing user-days; enforced, it locked "
            f"{_n(worst['locked_user_days'])})."
        )
        late = firsts[-1]
        if late[0] is not None and late[0] > 0:
            text += (
                f" A report-only trial shorter than {late[0]} days would have seen no failure of "
                f"{late[1]} and let it be enforced."
            )
    quiet = [
        str(n) for n in enforced.loc[~enforced["strategy"].isin(breaking["strategy"]), "strategy"]
    ]
    if quiet:
        text += (
            f" {_join(quiet)} never locked anyone beyond not pinning, so a trial would rightly "
            f"have cleared {'it' if len(quiet) == 1 else 'them'}."
        )
    caveat = (
        "simlib treats enforcement as a property of a strategy for the whole run: a switch from "
        "report-only to enforcement on a date is not modelled, so the lockout after the switch "
        "and the protection lost during the trial are not simulated together."
    )
    return Answer("Ship pins in report-only mode first?", table, text, caveat)


# ------------------------------------------------------------------------------ what-if
def with_validity(sc: Scenario, days: int) -> Scenario:
    """``sc`` with every host requesting ``days``-day certificates, renewed at most a third of
    the lifetime before expiry (a host's own earlier renewal is kept when shorter)."""
    data = _base(sc)
    cap = max(1, days // 3)
    hosts = copy.deepcopy(data["hosts"])
    for h in hosts:
        h["validity_days"] = days
        if h.get("renew_before_days") is not None:
            h["renew_before_days"] = min(h["renew_before_days"], cap)
        for step in h.get("policy_schedule") or []:
            if step.get("renew_before_days") is not None:
                step["renew_before_days"] = min(step["renew_before_days"], cap)
    return _scenario(data, {"hosts": hosts})


def what_if_validity(sc: Scenario, days: int = 47) -> Answer:
    """The scenario's own strategies with its certificates and with ``days``-day certificates
    on every host."""
    label = f"{days}-day certificates"
    table = compare({AS_GIVEN: _scenario(_base(sc), {}), label: with_validity(sc, days)})
    a, b = table[table["world"] == AS_GIVEN], table[table["world"] == label]
    changes = (int(a["certificate_changes"].max()), int(b["certificate_changes"].max()))
    worse = (
        b.set_index("strategy")["locked_user_days"] - a.set_index("strategy")["locked_user_days"]
    )
    top = worse.idxmax()
    text = (
        f"With {days}-day certificates on all {len(sc.hosts)} host(s) the servers change "
        f"certificate {changes[1]} times instead of {changes[0]}."
    )
    if worse.max() > 0:
        text += (
            f" Locked user-days grow most for {top}: from {_n(a.set_index('strategy').at[top, 'locked_user_days'])} "
            f"to {_n(b.set_index('strategy').at[top, 'locked_user_days'])}."
        )
    same = [str(n) for n in worse.index if abs(worse[n]) < 0.5]
    if same:
        text += f" Unchanged: {_join(same)}."
    return Answer(f"What if every host used {days}-day certificates?", table, text)


#: The seed questions, in the order the comparison notebook asks them.
QUESTIONS = (spki_vs_certificate, backup_other_ca, dynamic_pinning, pin_expiry, report_only_first)


def answer_all(sc: Scenario) -> list[Answer]:
    """Every seed question for one scenario."""
    return [q(sc) for q in QUESTIONS]


# ------------------------------------------------------------------------------ explaining a run
def headline(res) -> pd.DataFrame:
    """What each strategy's numbers mean, one row per strategy, columns in words: share of
    users locked on an average day, locked user-days, peak, users ever locked, outage spells
    and their length, and the mean share protected against each attack."""
    table = _metrics(res, AS_GIVEN)
    d = res.duration_stats.set_index("strategy")
    out = pd.DataFrame({"strategy": table["strategy"]})
    out["locked share (mean day)"] = table["mean_lockout"]
    out["locked user-days"] = table["locked_user_days"]
    out["peak locked share"] = table["peak_lockout"]
    out["users ever locked"] = table["users_ever_locked"]
    out["breaks"] = table["breaks"]
    out["outage spells"] = table["strategy"].map(d["outage_spells"])
    out["median spell (days)"] = table["strategy"].map(d["p50_outage_days"])
    out["p95 spell (days)"] = table["strategy"].map(d["p95_outage_days"])
    for c in (c for c in table if c.startswith("protected_") and c != "protected_mean"):
        out[f"protected: {readable(c)}"] = table[c]
    return out


def display_name(column: object) -> str:
    """A column name in words: ``protected_rogue_ca`` → ``protected: rogue CA``, ``_`` → space."""
    text = str(column)
    if text.startswith("protected_") and text != "protected_mean":
        return f"protected: {readable(text)}"
    return text.replace("_", " ")


def format_table(table: pd.DataFrame):
    """A pandas Styler for display: column names in words, shares as percentages, counts with
    thousands separators, dates as ISO days."""
    table = table.rename(columns=display_name)
    shares = [
        c
        for c in table
        if any(w in str(c) for w in ("share", "protected", "lockout", "violation"))
        and "user days" not in str(c)
        and "user-days" not in str(c)
        and pd.api.types.is_float_dtype(table[c])
    ]
    counts = [
        c
        for c in table
        if c not in shares
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]
    dates = [c for c in table if pd.api.types.is_datetime64_any_dtype(table[c])]
    fmt = {c: "{:.1%}" for c in shares} | {c: "{:,.0f}" for c in counts}
    fmt |= {c: _date for c in dates}
    return table.style.format(fmt, na_rep="–").hide(axis="index")


def describe(sc: Scenario) -> str:
    """The scenario in a few Markdown sentences, from its fields."""
    f = sc.fleet
    hosts = "; ".join(
        f"`{h.name}` on {h.ca} ({h.validity_days or 'the CA default of ' + str(_ca_days(sc, h.ca))}-day "
        f"certificates, key {'reused' if h.key_policy == 'reuse' else 'rotated' if h.key_policy == 'rotate' else 'rotated every ' + str(getattr(h.key_policy, 'rotate_every', '?')) + ' issuances'})"
        for h in sc.hosts
    )
    events = sorted({e.type.replace("_", " ") for e in sc.events})
    return (
        f"**{sc.name}** — {_date(sc.start)} to {_date(sc.end)}, {f.users:,} users, a release "
        f"every {f.release_every_days} days. Hosts: {hosts}. "
        + (f"Events: {_join(events)}. " if events else "No events beyond renewals. ")
        + f"{len(sc.strategies)} strategies: {_join([s.name for s in sc.strategies])}."
    )


def _ca_days(sc: Scenario, ca: str) -> int | str:
    return next((c.validity_days for c in sc.cas if c.name == ca), "?")


def distribution(
    mc_summary: pd.DataFrame,
    metrics: tuple[str, ...] = ("locked_user_days", "p95_outage_days", "users_ever_locked"),
) -> pd.DataFrame:
    """Monte Carlo percentiles (p5, p50, p95) of a few metrics, one row per strategy."""
    s = mc_summary[mc_summary["metric"].isin(metrics)]
    wide = s.pivot(index="strategy", columns="metric", values=["p5", "p50", "p95"])
    wide = wide.reindex(list(dict.fromkeys(s["strategy"])))
    wide.columns = [f"{m.replace('_', ' ')} {p}" for p, m in wide.columns]
    cols = [f"{m.replace('_', ' ')} {p}" for m in metrics for p in ("p5", "p50", "p95")]
    return wide[[c for c in cols if c in wide]].reset_index()
