"""The seed questions notebook 02 asks, each answered from a table of simulated variants:
certificate vs key pins, a backup pin on another CA, dynamic pinning, pin expiry, report-only
first; and :func:`what_if_validity`, one certificate lifetime on every host."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simlib.model import DynamicSpec, Scenario
from simlib.report.questions.answers import Answer, attack_names, over, row
from simlib.report.questions.variants import (
    AS_GIVEN,
    BACKUP_CA,
    backup_target,
    compare,
    keys_reused,
    midpoint,
    numbered,
    resolved,
    spare_ca,
    strategy,
    variant,
    with_validity,
)
from simlib.report.wording import article, iso_date, join, num, pct, pp

#: Pin expiries (days after the build) compared by :func:`pin_expiry`.
EXPIRY_DAYS: tuple[int, ...] = (90, 180, 365)


# ------------------------------------------------------------------------------ SPKI vs certificate
def spki_vs_certificate(sc: Scenario) -> Answer:
    """A pin on the leaf certificate vs a pin on its key (SPKI), with the scenario's key policy
    and with every host reusing its key at renewal."""
    data = resolved(sc)
    cert, spki = "certificate pin", "key (SPKI) pin"
    strategies = [strategy(cert, "leaf_cert"), strategy(spki, "leaf_spki")]
    worlds = {AS_GIVEN: variant(data, {"strategies": strategies})}
    reused = keys_reused(data)
    reuse_label = "keys reused at renewal"
    if reused != data["hosts"]:
        worlds[reuse_label] = variant(data, {"strategies": strategies, "hosts": reused})
    table = compare(worlds)
    parts = []
    for world in worlds:
        c, k = row(table, cert, world), row(table, spki, world)
        where = "As given" if world == AS_GIVEN else "With every key reused at renewal"
        parts.append(
            f"{where} ({c['certificate_changes']} certificate changes), a certificate pin broke "
            f"{c['breaks']} times ({num(c['locked_user_days'])} locked user-days, peak "
            f"{pct(c['peak_lockout'])}) and a key pin {k['breaks']} times "
            f"({num(k['locked_user_days'])} locked user-days, peak {pct(k['peak_lockout'])})."
        )
    c, k = row(table, cert), row(table, spki)
    if reuse_label in worlds:
        kr = row(table, spki, reuse_label)
        saved = 1 - kr["locked_user_days"] / c["locked_user_days"] if c["locked_user_days"] else 0.0
        parts.append(
            f"Reusing keys would bring the key pin to {num(kr['locked_user_days'])} locked user-days"
            + (f", {pct(saved)} fewer than the certificate pin as given." if saved > 0 else ".")
        )
    elif k["locked_user_days"] < c["locked_user_days"]:
        parts.append("Every host already reuses its key, so renewals keep the key pin valid.")
    prot = [
        f"{pct(row(table, cert, w)['protected_mean'])} vs {pct(row(table, spki, w)['protected_mean'])}"
        + ("" if w == AS_GIVEN else " with keys reused")
        for w in worlds
    ]
    parts.append(f"Users protected, certificate vs key pin: {'; '.join(prot)} ({over(table)}).")
    return Answer("Pin the certificate or its public key (SPKI)?", table, " ".join(parts))


# ------------------------------------------------------------------------------ backup CA
def backup_other_ca(sc: Scenario) -> Answer:
    """Root and intermediate pins with and without a backup pin on another CA's root, in the
    scenario and — unless it already moves CA — with every host moved to that CA mid-way."""
    data = resolved(sc)
    target, label = backup_target(sc)
    worlds_over: dict[str, dict[str, Any]] = {AS_GIVEN: {}}
    if target is None:
        target = spare_ca(sc)
        if target is None:
            names = {c["name"] for c in data["cas"]}
            target = next(n for n in numbered(BACKUP_CA) if n not in names)
            data["cas"] = [*data["cas"], {"name": target}]
        when = midpoint(sc)
        label = f"every host moves to {target} on {iso_date(when)}"
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
            strategy(f"{word} pin", pin),
            strategy(f"{word} pin + {target} root", pin, backup=[f"ca:{target}"]),
        ]
    worlds = {w: variant(data, {"strategies": strategies, **o}) for w, o in worlds_over.items()}
    table = compare(worlds)
    world = label if label in worlds else AS_GIVEN
    parts = []
    for word, _ in pairs:
        alone, backed = (
            row(table, f"{word} pin", world),
            row(table, f"{word} pin + {target} root", world),
        )
        parts.append(
            f"{article(word)} {word} pin alone locked {num(alone['locked_user_days'])} user-days "
            f"(peak {pct(alone['peak_lockout'])}, {pct(alone['protected_mean'])} protected), "
            f"with {target}'s root as a backup {num(backed['locked_user_days'])} (peak "
            f"{pct(backed['peak_lockout'])}, {pct(backed['protected_mean'])} protected)"
        )
    text = f"When {label}: " + "; ".join(parts) + "."
    if world != AS_GIVEN:
        extra = [
            row(table, f"{w} pin + {target} root")["locked_user_days"]
            - row(table, f"{w} pin")["locked_user_days"]
            for w, _ in pairs
        ]
        text += (
            f" Without the move the backup changes locked user-days by "
            f"{join([num(x) for x in extra])} for the root and the intermediate pin."
        )
    text += f" {over(table)}"
    return Answer(f"Add a backup pin from a different CA ({target})?", table, text)


# ------------------------------------------------------------------------------ dynamic pinning
def dynamic_pinning(sc: Scenario) -> Answer:
    """Static leaf-key pins vs a remote pin list (simlib's dynamic defaults), failing open or
    closed when the list is stale, with a static root pin for reference."""
    data = resolved(sc)
    d = DynamicSpec()
    static, dyn_open, dyn_closed, root = (
        "leaf key, static",
        "leaf key, dynamic list (fail open)",
        "leaf key, dynamic list (fail closed)",
        "root key, static",
    )
    strategies = [
        strategy(static, "leaf_spki"),
        strategy(dyn_open, "leaf_spki", dynamic={"on_stale": "fail_open"}),
        strategy(dyn_closed, "leaf_spki", dynamic={"on_stale": "fail_closed"}),
        strategy(root, "root_spki"),
    ]
    table = compare({AS_GIVEN: variant(data, {"strategies": strategies})})
    s, o, c, r = (row(table, n) for n in (static, dyn_open, dyn_closed, root))
    attacks = join(attack_names(table))
    text = (
        f"A pin list the app refreshes every {d.refresh_days} day{'s' if d.refresh_days != 1 else ''} "
        f"(each fetch succeeds with probability {pct(d.fetch_success)}, keys published {d.publish_ahead_days} days ahead, "
        f"stale after {d.max_age_days} days) locked {num(o['locked_user_days'])} user-days failing "
        f"open and {num(c['locked_user_days'])} failing closed, against "
        f"{num(s['locked_user_days'])} for leaf-key pins fixed at build time and "
        f"{num(r['locked_user_days'])} for a static root pin. Protection averaged over {attacks}: "
        f"{pct(o['protected_mean'])} (fail open), {pct(c['protected_mean'])} (fail closed), "
        f"{pct(s['protected_mean'])} (static leaf key), {pct(r['protected_mean'])} (root)."
    )
    caveat = (
        "The pin-list endpoint is modelled as unpinned and always trustworthy; a compromised "
        "list server is not simulated."
    )
    return Answer("Does dynamic pinning (a remotely updated pin list) help?", table, text, caveat)


# ------------------------------------------------------------------------------ pin expiry
def pin_expiry(sc: Scenario, days: tuple[int, ...] = EXPIRY_DAYS) -> Answer:
    """Leaf-key pins without expiry vs pins switched off ``days`` after the build (fail open)."""
    data = resolved(sc)
    never = "leaf key, no expiry"
    names = {n: f"leaf key, expires after {n} days" for n in days}
    strategies = [strategy(never, "leaf_spki")] + [
        strategy(names[n], "leaf_spki", expires_after_days=n) for n in days
    ]
    table = compare({AS_GIVEN: variant(data, {"strategies": strategies})})
    table["expires_after_days"] = table["strategy"].map({v: k for k, v in names.items()})
    base = row(table, never)
    attacks = join(attack_names(table))
    each = [
        f"{n} days: {num(row(table, names[n])['locked_user_days'])} "
        f"({pct(row(table, names[n])['protected_mean'])} protected)"
        for n in days
    ]
    text = (
        f"Leaf-key pins that never expire locked {num(base['locked_user_days'])} user-days and "
        f"protected {pct(base['protected_mean'])} of users on average over {attacks}. "
        f"Switched off after " + "; ".join(each) + "."
    )
    short = row(table, names[min(days)])
    if base["locked_user_days"] > 0:
        cut = 1 - short["locked_user_days"] / base["locked_user_days"]
        text += (
            f" The shortest expiry removes {pct(cut)} of the lockout and costs "
            f"{pp(short['protected_mean'] - base['protected_mean']).lstrip('+-')} of protection:"
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
    data = resolved(sc)
    own = [s for s in data["strategies"] if s["pin"] != "none"] or [
        strategy("leaf key", "leaf_spki")
    ]
    taken = {s["name"] for s in own}
    baseline = next(n for n in numbered("no pinning (baseline)") if n not in taken)
    strategies = [strategy(baseline, "none")]
    for s in own:
        strategies += [
            {**s, "enforce": True},
            {**s, "name": f"{s['name']} (report-only)", "enforce": False},
        ]
    table = compare({AS_GIVEN: variant(data, {"strategies": strategies})})
    table["mode"] = np.where(
        table["strategy"].str.endswith(" (report-only)"), "report-only", "enforced"
    )
    table.loc[table["strategy"] == baseline, "mode"] = "no pins"
    base = row(table, baseline)
    reports = table[table["mode"] == "report-only"]
    enforced = table[table["mode"] == "enforced"]
    extra_locked = float((reports["locked_user_days"] - base["locked_user_days"]).abs().max())
    extra_prot = float((reports["protected_mean"] - base["protected_mean"]).abs().max())
    text = (
        f"In report-only mode every strategy locked and protected like not pinning at all "
        f"({num(base['locked_user_days'])} locked user-days, {pct(base['protected_mean'])} "
        f"protected; largest difference {num(extra_locked)} user-days and "
        f"{pp(extra_prot).lstrip('+')})."
    )
    breaking = enforced[enforced["locked_user_days"] > base["locked_user_days"] + 0.5]
    if len(breaking):
        firsts = []
        for name in breaking["strategy"]:
            r = row(table, f"{name} (report-only)")
            day = (
                (pd.Timestamp(r["first_violation"]) - pd.Timestamp(sc.start)).days
                if pd.notna(r["first_violation"])
                else None
            )
            firsts.append((day, str(name), r))
        firsts.sort(key=lambda f: (f[0] is None, f[0] if f[0] is not None else 0))
        listed = [
            f"{n} on day {d} ({iso_date(r['first_violation'])})"
            for d, n, r in firsts
            if d is not None
        ]
        if listed:
            text += (
                f" Enforced, {len(breaking)} of {len(enforced)} pinning strategies lock users out; their "
                f"reports would have flagged the first failure for {join(listed)}."
            )
        worst = breaking.sort_values("locked_user_days").iloc[-1]
        r = row(table, f"{worst['strategy']} (report-only)")
        text += (
            f" For {worst['strategy']} the reports flag up to {pct(r['peak_violation'])} of users a "
            f"day ({num(r['violation_user_days'])} failing user-days; enforced, it locked "
            f"{num(worst['locked_user_days'])})."
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
            f" {join(quiet)} never locked anyone beyond not pinning, so a trial would rightly "
            f"have cleared {'it' if len(quiet) == 1 else 'them'}."
        )
    caveat = (
        "simlib treats enforcement as a property of a strategy for the whole run: a switch from "
        "report-only to enforcement on a date is not modelled, so the lockout after the switch "
        "and the protection lost during the trial are not simulated together."
    )
    return Answer("Ship pins in report-only mode first?", table, text, caveat)


# ------------------------------------------------------------------------------ what-if
def what_if_validity(sc: Scenario, days: int = 47) -> Answer:
    """The scenario's own strategies with its certificates and with ``days``-day certificates
    on every host."""
    label = f"{days}-day certificates"
    table = compare({AS_GIVEN: variant(resolved(sc), {}), label: with_validity(sc, days)})
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
            f" Locked user-days grow most for {top}: from {num(a.set_index('strategy').at[top, 'locked_user_days'])} "
            f"to {num(b.set_index('strategy').at[top, 'locked_user_days'])}."
        )
    same = [str(n) for n in worse.index if abs(worse[n]) < 0.5]
    if same:
        text += f" Unchanged: {join(same)}."
    return Answer(f"What if every host used {days}-day certificates?", table, text)


#: The seed questions, in the order the comparison notebook asks them.
QUESTIONS = (spki_vs_certificate, backup_other_ca, dynamic_pinning, pin_expiry, report_only_first)
