"""What a team must have in place before shipping a strategy, and the pin config it implies.

:func:`prerequisites` checks the operational prerequisites of one strategy against the scenario
and its simulated calendar — a backup pin from another CA, a pre-generated next key, monitoring,
an unpinned update-prompt endpoint, a kill switch — and says for each whether the scenario has it,
with the numbers that make it matter. :func:`config_snippet` writes the platform configs
(:func:`simlib.toolkit.emit.emit`) for the chain the simulation served on the first day: real
X.509 objects and real SPKI pins, of the *simulated* keys — the snippet shows the shape; the
command it prints makes the same files for the real host.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pandas as pd

from simlib.model import Scenario, StrategySpec
from simlib.toolkit.formats import emit_targets

__all__ = ["COLUMNS", "Snippet", "config_snippet", "prerequisites"]

COLUMNS = ["prerequisite", "status", "why"]
IN_PLACE, NEEDED, NOT_NEEDED = "in place", "needed", "not needed"


def _spec(scenario: Scenario, name: str) -> StrategySpec:
    for s in scenario.strategies:
        if s.name == name:
            return s
    raise KeyError(name)


def _pinned_hosts(scenario: Scenario, spec: StrategySpec) -> list:
    if spec.pin == "none":
        return []
    return [h for h in scenario.hosts if spec.hosts is None or h.name in spec.hosts]


def _key_changes(issuances: pd.DataFrame, hosts: list[str]) -> int:
    """Renewals on ``hosts`` that changed the leaf key (first issuances not counted)."""
    n = 0
    for _, g in issuances[issuances["host"].isin(hosts)].groupby("host"):
        keys = g.sort_values("seq")["key_id"].tolist()
        n += sum(a != b for a, b in itertools.pairwise(keys))
    return n


def _renewals(issuances: pd.DataFrame, hosts: list[str]) -> int:
    sub = issuances[issuances["host"].isin(hosts)]
    return max(0, len(sub) - sub["host"].nunique())


def prerequisites(res, strategy: str, *, incurable_user_days: float | None = None) -> pd.DataFrame:
    """One row per prerequisite of ``strategy`` (``COLUMNS``): status and a reason with numbers."""
    sc: Scenario = res.scenario
    spec = _spec(sc, strategy)
    hosts = _pinned_hosts(sc, spec)
    names = [h.name for h in hosts]
    rows: list[tuple[str, str, str]] = []
    if not hosts:
        return pd.DataFrame(
            [
                (
                    "pinning infrastructure",
                    NOT_NEEDED,
                    f"{strategy} pins nothing: no pins to rotate, "
                    "but also no protection against a mis-issued or user-installed certificate.",
                )
            ],
            columns=COLUMNS,
        )
    iss = res.issuances
    own_cas = {h.ca for h in hosts}
    other = [c.name for c in sc.cas if c.name not in own_cas]
    changes = _key_changes(iss, names)
    if spec.dynamic is not None:
        rows += _dynamic_rows(spec, changes)
    else:
        rows += _static_rows(spec, hosts, own_cas, other, changes, _renewals(iss, names))
    monitored = not spec.enforce
    rows.append(
        (
            "monitoring",
            IN_PLACE if monitored else NEEDED,
            (
                "report-only: pin failures are counted, nobody is blocked — roll out enforcement "
                "only when reports stay at zero across a renewal."
                if monitored
                else f"watch pin-failure reports from the app, Certificate Transparency for "
                f"{', '.join(names)}, and each CA's roadmap: {_renewals(iss, names)} renewal(s) "
                "in the horizon, each a chance to break a pin."
            ),
        )
    )
    ir = sc.incident_response
    check_host = None if ir is None else ir.update_check_host
    if ir is None:
        rows.append(
            (
                "unpinned update-prompt endpoint",
                NEEDED,
                "the scenario has no incident response: locked users wait for organic updates; "
                "an update prompt served from an unpinned endpoint is how they are told.",
            )
        )
    elif check_host is not None and check_host in names:
        rows.append(
            (
                "unpinned update-prompt endpoint",
                NEEDED,
                f"the update check runs on {check_host}, which {strategy} pins: a locked user "
                "never sees the prompt that would fix them.",
            )
        )
    else:
        rows.append(
            (
                "unpinned update-prompt endpoint",
                IN_PLACE,
                "the update check is not pinned by this strategy, so locked users can be told "
                "to update.",
            )
        )
    incurable = (
        ""
        if incurable_user_days is None
        else (f" {incurable_user_days:,.0f} locked user-days in this scenario no release can cure.")
    )
    if spec.dynamic is not None:
        rows.append(
            (
                "kill switch",
                IN_PLACE,
                f"pins come from a remote list refreshed every {spec.dynamic.refresh_days} "
                f"day(s) ({spec.dynamic.on_stale.replace('_', ' ')} when stale): publishing an "
                "empty or new list turns pinning off or moves it.",
            )
        )
    elif spec.expires_after_days:
        rows.append(
            (
                "kill switch",
                "partial",
                f"pins expire {spec.expires_after_days} days after each build (fail open), so "
                "a bad pin ends on its own; there is no faster remote off switch." + incurable,
            )
        )
    else:
        rows.append(
            (
                "kill switch",
                NEEDED,
                "no remote off switch and no pin expiry: a wrong pin is only fixed by a release "
                "and by users installing it." + incurable,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _static_rows(
    spec: StrategySpec, hosts: list, own_cas: set, other: list, changes: int, renewals: int
) -> list[tuple[str, str, str]]:
    """Backup and next-key rows of a strategy whose pins are fixed at build time."""
    rows: list[tuple[str, str, str]] = []
    backups = [b for b in spec.backup if b.kind in ("ca", "intermediates") and b.ca not in own_cas]
    literal = [b for b in spec.backup if b.kind == "spki"]
    if backups:
        rows.append(
            (
                "backup pin from another CA",
                IN_PLACE,
                "backs up to "
                + ", ".join(str(b) for b in backups)
                + f": a move away from {', '.join(sorted(own_cas))} does not lock anyone out.",
            )
        )
    elif literal:
        rows.append(
            (
                "backup pin from another CA",
                "check",
                f"{len(literal)} literal backup pin(s): make sure one is a key of a CA other "
                f"than {', '.join(sorted(own_cas))} and that it is kept offline.",
            )
        )
    else:
        hint = f" (e.g. ca:{other[0]})" if other else " (the scenario has no second CA)"
        rows.append(
            (
                "backup pin from another CA",
                NEEDED,
                f"every pin is under {', '.join(sorted(own_cas))}: a CA migration or distrust "
                f"locks every installed version until users update{hint}.",
            )
        )
    if spec.pin == "leaf_cert":
        rows.append(
            (
                "pre-generated next key",
                NEEDED,
                f"certificate pins break at every renewal ({renewals} in the horizon) "
                "whatever the key; pin the key (SPKI) and publish the next one instead.",
            )
        )
    elif spec.pin == "leaf_spki":
        has_next = any(b.kind == "next_key" for b in spec.backup)
        ready = has_next and all(h.pregenerate_next_key for h in hosts)
        rows.append(
            (
                "pre-generated next key",
                IN_PLACE if ready else NEEDED,
                f"{changes} leaf-key change(s) on the pinned host(s) in the horizon; "
                + (
                    "the next key is generated ahead and shipped as a backup pin."
                    if ready
                    else "each one locks every version built before it unless the "
                    "next key is generated ahead, shipped as a backup pin, and used at renewal."
                ),
            )
        )
    else:
        rows.append(
            (
                "pre-generated next key",
                NOT_NEEDED,
                f"{spec.pin.replace('_', ' ')} does not change when the leaf key does "
                f"({changes} leaf-key change(s) in the horizon).",
            )
        )
    return rows


def _dynamic_rows(spec: StrategySpec, changes: int) -> list[tuple[str, str, str]]:
    """Pins from a remote list: the list, not backups shipped in the app, moves them."""
    d = spec.dynamic
    stale = d.on_stale.replace("_", " ")
    return [
        (
            "signed pin-list endpoint",
            NEEDED,
            f"the app refreshes its pins every {d.refresh_days} day(s) (fetches succeed "
            f"{d.fetch_success:.0%} of the time in this scenario); a list older than "
            f"{d.max_age_days} days is stale and the app then fails {stale.removeprefix('fail ')}. "
            "Sign the list, and serve it from an endpoint these pins do not guard.",
        ),
        (
            "pre-generated next key",
            NEEDED,
            f"the list publishes a certificate's pins {d.publish_ahead_days} days before it is "
            f"served: each of the {changes} leaf-key change(s) in the horizon needs its key that early.",
        ),
        (
            "backup pin from another CA",
            NOT_NEEDED if d.on_stale == "fail_open" else "check",
            "a CA move is published in the list like any rotation"
            + (
                "."
                if d.on_stale == "fail_open"
                else "; but a stale list fails closed, so a backup from another CA keeps users working "
                "while the list cannot be fetched."
            ),
        ),
    ]


@dataclass(frozen=True)
class Snippet:
    """Pin configs for one host, per platform format, and the command that makes them for real."""

    host: str
    day: dt.date
    files: dict[str, str]
    refused: dict[str, str]  # format -> why it cannot take this pin set
    command: str
    note: str


def config_snippet(res, strategy: str) -> Snippet | None:
    """Configs of ``strategy`` for its first pinned host: exactly the pins a release built on
    the first day ships (primary and backup, split into ATS's leaf and CA lists); ``None`` when
    the strategy pins nothing. Certificate pins have no format on these platforms (all four
    formats are then refused, with the reason)."""
    from simlib.toolkit.emit import write_pin_lists

    sc: Scenario = res.scenario
    spec = _spec(sc, strategy)
    hosts = _pinned_hosts(sc, spec)
    if not hosts:
        return None
    host = hosts[0].name
    if spec.dynamic is not None:
        why = "pins come from the remote list at run time; the app ships the list's URL and signing key"
        return Snippet(host, sc.start, {}, dict.fromkeys(emit_targets(), why), "", "")
    if spec.pin == "leaf_cert":
        why = "certificate pins have no format here (NSC, ATS, OkHttp and TrustKit pin keys)"
        return Snippet(host, sc.start, {}, dict.fromkeys(emit_targets(), why), "", "")
    shipped = res.shipped_pins(strategy, host, 0)
    expires = (
        sc.start + dt.timedelta(days=spec.expires_after_days) if spec.expires_after_days else None
    )
    # `simlib emit` finds the primary pin in the live chain; the rest are backups to pass.
    flags = [f"--backup {p.sha256}" for p in shipped.backup]
    leaf = [(p.sha256, p.label) for p in shipped.leaf]
    ca = [(p.sha256, p.label) for p in shipped.ca]
    both = leaf + ca
    # Every registered writer, as `simlib emit` dispatches (TrustKit refuses a single pin).
    files, refused = write_pin_lists(host, leaf, ca, expires=expires)
    if refused:  # emit fails whole on a refusing format: the command names only those that work
        flags.append(f"--for {','.join(files)}")
    command = " ".join([f"simlib emit --strategy {spec.pin} --host {host}", *flags])
    simulated = [p.label for p in (*shipped.leaf, *shipped.ca) if not p.real]
    note = f"The pins a release built on {sc.start} ships for {host}. " + (
        "Every one is the pin of a real CA certificate."
        if not simulated
        else ("Pins of real CA certificates are real; " if len(simulated) < len(both) else "")
        + f"{', '.join(simulated)}: simulated stand-in key(s) — run the command against your "
        "real host for yours (it audits what it writes)."
    )
    return Snippet(host, sc.start, files, refused, command, note)
