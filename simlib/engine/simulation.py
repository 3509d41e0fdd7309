"""The engine: exact expected lockout and coverage over (strategy × app version × day).

A :class:`Simulation` owns one scenario, its certificate calendar (the only server-side random
stream), the client kinds and the chain table; it owns no global state, so simulations run in
parallel freely. For each strategy it builds, per (version, segment, client kind), whether users
are locked, protected against each attack, or see a pin violation (:class:`StrategyTables`), then
multiplies by how many users run each version on each day (:mod:`simlib.fleet.cohorts`). Expected mode
uses expected user counts; Monte Carlo (:mod:`simlib.engine.montecarlo`) feeds sampled counts through the
same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlib.clients.chains import Chains, ChainTable
from simlib.clients.trust import ClientKind, TrustModel, client_kinds
from simlib.fleet.cohorts import (
    Cohorts,
    Release,
    exact_counts,
    normal_version,
    regular_releases,
    sort_releases,
    windows,
)
from simlib.model import Scenario
from simlib.server.calendar import CertificateCalendar
from simlib.strategies.strategy import PinningStrategy, build_strategies, literal_identity


@dataclass
class StrategyTables:
    """Verdicts for one strategy and one release list.

    Static strategies: arrays are (V, S) over *refined segments* (``seg_start``/``seg_of_day``).
    Dynamic strategies: arrays are (V, T) probabilities (one "segment" per day).
    """

    strategy: PinningStrategy
    releases: list[Release]
    seg_start: np.ndarray
    seg_of_day: np.ndarray
    lock: dict[str, np.ndarray]  # client -> (V, S) locked (any host)
    violate: dict[str, np.ndarray]
    protect: dict[str, dict[str, np.ndarray]]  # client -> attack -> (V, S)
    lock_host: dict[str, dict[str, np.ndarray]]  # client -> host -> (V, S)
    per_day: bool = False
    #: dynamic only: client -> event -> (on[t, f] when pins are checked with a list fetched on f,
    #: on[t] when they are not checked); the Monte Carlo panel evaluates these per user.
    events: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] | None = None

    @property
    def release_days(self) -> np.ndarray:
        return np.array([r.release_day for r in self.releases])

    @property
    def build_days(self) -> np.ndarray:
        return np.array([r.build_day for r in self.releases])


@dataclass
class StrategyRun:
    """Everything computed for one strategy: tables, per-client version counts, daily series."""

    tables: StrategyTables
    counts: dict[str, np.ndarray]  # client -> (V, T) users on each version
    series: dict[str, np.ndarray]  # column -> (T,)
    fixes: list[Release] = field(default_factory=list)


class Simulation:
    """One scenario: calendar, clients and chains, and the evaluation of every strategy."""

    def __init__(self, scenario: Scenario, *, seed: np.random.SeedSequence | None = None) -> None:
        self.scenario = scenario
        self.days = scenario.days
        self.seed = seed if seed is not None else np.random.SeedSequence(scenario.seed)
        self.calendar = CertificateCalendar(scenario, self.seed)
        self.clients: list[ClientKind] = client_kinds(scenario)
        self.trust = TrustModel(self.calendar)
        self.strategies = build_strategies(scenario.strategies)
        # Literal spki: pins need ids before the chain table fixes the id space.
        for st in self.strategies:
            for entry in st.backup:
                if entry.startswith("spki:"):
                    literal_identity(self.calendar, entry[5:])
        self.table = ChainTable(self.calendar, self.trust, self.clients, scenario.attacks)
        f = scenario.fleet
        self.base_releases = regular_releases(self.days, f.release_every_days, f.build_lead_days)
        self.attack_labels = [a.label for a in scenario.attacks]
        self.platforms = list(dict.fromkeys(c.platform for c in self.clients))
        ir = scenario.incident_response
        self.comply_share = (
            ir.forced_update.comply_share if ir is not None and ir.forced_update else 0.0
        )
        self.update_host = ir.update_check_host if ir is not None else None
        #: Issuances that replace a served certificate inside the simulated period.
        self.certificate_changes = sum(1 for it in self.calendar.issuances if 0 < it.day < self.days)

    # =============================================================== verdict tables
    def tables(self, strategy: PinningStrategy, releases: list[Release]) -> StrategyTables:
        if strategy.dynamic is not None:
            return self._dynamic_tables(strategy, releases)
        return self._static_tables(strategy, releases)

    def _pin_matrices(self, strategy, host, build_days):
        """Distinct pin sets as boolean rows over the id space, and which one each version uses.

        Returns (PL, PC, inverse): leaf-level and CA-level pins of each distinct set, and for
        each version the index of its set. Pins depend on the certificate served on the build
        day (and, with "all intermediates" options, on the day itself), so versions built while
        the same certificate was served share a set and are evaluated once.
        """
        served = self.calendar.served[host][np.clip(build_days, 0, self.days - 1)]
        needs_day = strategy.intermediates == "all" or any(
            b.startswith("intermediates:") for b in strategy.backup
        )
        state = served * (self.days + 1) + (build_days if needs_day else 0)
        _, first, inverse = np.unique(state, return_index=True, return_inverse=True)
        n = self.table.n_ids + 1
        PL = np.zeros((len(first), n), dtype=bool)
        PC = np.zeros((len(first), n), dtype=bool)
        for u, v in enumerate(first):
            ps = strategy.pins(self.calendar, host, int(build_days[v]))
            PL[u, list(ps.leaf)] = True
            PC[u, list(ps.ca)] = True
        return PL, PC, inverse

    def _refine(self, strategy: PinningStrategy, build_days: np.ndarray):
        """Segments refined by the days on which some version's pins expire."""
        T = self.days
        starts = set(self.table.seg_start.tolist())
        if strategy.expires_after_days:
            starts |= {int(b) + strategy.expires_after_days for b in build_days}
        seg_start = np.array(sorted(s for s in starts if 0 <= s < T))
        seg_of_day = np.searchsorted(seg_start, np.arange(T), side="right") - 1
        return seg_start, seg_of_day

    def _enforcement(self, strategy, build_days, seg_start):
        """(V, S) pins checked (not expired) and enforced (checked and enforce=True)."""
        V, S = len(build_days), len(seg_start)
        checked = np.ones((V, S), dtype=bool)
        if strategy.expires_after_days:
            checked = seg_start[None, :] < (build_days[:, None] + strategy.expires_after_days)
        return checked, checked & strategy.enforce

    @staticmethod
    def _accept(PL, PC, leaf, ca, matcher: str) -> np.ndarray:
        """(V, S): does each version's pin set accept each segment's chain?"""
        if matcher == "any":
            P = PL | PC
            return P[:, leaf].any(-1) | P[:, ca].any(-1)
        has_l = PL.any(1)[:, None]
        has_c = PC.any(1)[:, None]
        return (~has_l | PL[:, leaf].any(-1)) & (~has_c | PC[:, ca].any(-1))

    def _accept_unique(self, pins, chains: Chains, glob: np.ndarray, matcher: str):
        """``_accept`` evaluated once per distinct pin set and distinct chain, then spread to
        (versions × segments); also returns whether each segment's chain validates."""
        PL, PC, inverse = pins
        acc = self._accept(PL, PC, chains.rows_leaf, chains.rows_ca, matcher)
        rows = chains.spread[glob]
        return acc[inverse][:, rows], chains.rows_trusted[rows]

    def _targets_of(self, attack_label: str) -> list[str]:
        spec = next(a for a in self.scenario.attacks if a.label == attack_label)
        return [spec.host] if spec.host else self.table.hosts

    def _static_tables(self, strategy, releases) -> StrategyTables:
        build_days = np.array([r.build_day for r in releases])
        seg_start, seg_of_day = self._refine(strategy, build_days)
        glob = self.table.seg_of_day[seg_start]
        checked, enforced = self._enforcement(strategy, build_days, seg_start)
        V, S = len(releases), len(seg_start)
        lock, violate, protect, lock_host = {}, {}, {}, {}
        pins = {}
        for h in self.table.hosts:
            PL, PC, inverse = self._pin_matrices(strategy, h, build_days)
            pinned = (PL.any(axis=1) | PC.any(axis=1))[inverse][:, None]
            pins[h] = ((PL, PC, inverse), pinned)
        targets = {a: self._targets_of(a) for a in self.attack_labels}
        for c in self.clients:
            lk = np.zeros((V, S), dtype=bool)
            vi = np.zeros((V, S), dtype=bool)
            rejects = {a: np.ones((V, S), dtype=bool) for a in self.attack_labels}
            lock_host[c.name] = {}
            for h in self.table.hosts:
                upins, pinned = pins[h]
                acc, trusted = self._accept_unique(upins, self.table.legit[(h, c.name)], glob, c.matcher)
                trusted = trusted[None, :]
                lk_h = ~trusted | (enforced & pinned & ~acc)
                lock_host[c.name][h] = lk_h
                lk |= lk_h
                vi |= trusted & checked & pinned & ~acc
                for a in self.attack_labels:
                    if h not in targets[a]:
                        continue
                    acc_a, a_trusted = self._accept_unique(
                        upins, self.table.attack[(a, h, c.name)], glob, c.matcher
                    )
                    rejects[a] &= ~a_trusted[None, :] | (enforced & pinned & ~acc_a)
            lock[c.name] = lk
            violate[c.name] = vi
            protect[c.name] = {a: ~lk & r for a, r in rejects.items()}
        return StrategyTables(strategy, releases, seg_start, seg_of_day, lock, violate, protect, lock_host)

    # -------------------------------------------------------------- dynamic pin lists
    def _publication(self, strategy: PinningStrategy, host: str) -> np.ndarray:
        """(T, n) identities on the remote pin list on each day (current + published ahead)."""
        T, n = self.days, self.table.n_ids + 1
        pub = np.zeros((T, n), dtype=bool)
        if not strategy.pins_host(host):
            return pub
        ahead = strategy.dynamic.publish_ahead_days  # type: ignore[union-attr]
        for it in self.calendar.by_host[host]:
            lo, hi = max(0, it.day - ahead), min(T - 1, it.end_day)
            if hi < lo:
                continue
            ids = list(strategy.targets(self.calendar, it))
            b = strategy.backup_pins(self.calendar, it, max(it.day, 0))
            ids += list(b.leaf | b.ca)
            pub[lo : hi + 1, ids] = True
        return pub

    def _dynamic_tables(self, strategy, releases) -> StrategyTables:
        """Exact expectation over each user's pin-list refresh history.

        A user refreshes every R days at a uniformly random phase; each attempt succeeds with
        probability p. The list in force on day t is the bundled one (build day b) or the last
        successful fetch f ∈ (b, t], whichever is newer: P(f* = f) = (p/R)(1−p)^⌊(t−f)/R⌋ for
        f ∈ (b, t], the rest at b. A list older than max_age_days is stale: fail_open stops
        checking, fail_closed keeps enforcing it. Dynamic pins match any certificate of the
        built chain on every platform (custom validators, as Wultra and Approov do).
        """
        dyn = strategy.dynamic
        T = self.days
        build_days = np.array([r.build_day for r in releases])
        V = len(releases)
        t = np.arange(T)
        lag = t[:, None] - t[None, :]  # (t, f)
        valid = lag >= 0
        q = np.where(valid, (dyn.fetch_success / dyn.refresh_days)
                     * (1 - dyn.fetch_success) ** (np.maximum(lag, 0) // dyn.refresh_days), 0.0)
        fresh = valid & (lag <= dyn.max_age_days) if dyn.on_stale == "fail_open" else valid
        seg = self.table.seg_of_day  # (T,)
        pubs = {h: self._publication(strategy, h) for h in self.table.hosts}
        pinned = {h: strategy.pins_host(h) for h in self.table.hosts}
        expiry = (
            build_days + strategy.expires_after_days
            if strategy.expires_after_days
            else np.full(V, 10**9)
        )
        checked_vt = t[None, :] < expiry[:, None]  # (V, T)
        bb = np.clip(build_days, 0, T - 1)

        def prob(event_enf: np.ndarray, event_off: np.ndarray) -> np.ndarray:
            """P(event) per (v, t): event_enf[t, f] when pins are checked, event_off[t] if not."""
            w = q * event_enf
            ss = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # ss[t, x] = Σ_{f ≥ x} w[t, f]
            ss = np.concatenate([ss, np.zeros((T, 1))], axis=1)
            nxt = np.clip(build_days + 1, 0, T)
            tail = ss[t[None, :], nxt[:, None]]  # Σ_{f ∈ (b, t]}
            mass = q.cumsum(axis=1)  # Σ_{f ≤ x} q[t, f]
            total = np.concatenate([np.zeros((T, 1)), mass], axis=1)
            p_after = total[t[None, :], np.full((V, 1), T)] - total[t[None, :], nxt[:, None]]
            p0 = 1.0 - p_after
            at_b = event_enf[t[None, :], bb[:, None]]
            p = tail + p0 * at_b
            p = np.where(build_days[:, None] > t[None, :], 0.0, p)  # not built yet
            return np.where(checked_vt, p, event_off[None, :])

        lock, violate, protect, lock_host, events = {}, {}, {}, {}, {}
        for c in self.clients:
            lk_enf = np.zeros((T, T), dtype=bool)
            lk_off = np.zeros(T, dtype=bool)
            vi = np.zeros((T, T), dtype=bool)
            rej_enf = {a: np.ones((T, T), dtype=bool) for a in self.attack_labels}
            rej_off = {a: np.ones(T, dtype=bool) for a in self.attack_labels}
            lock_host[c.name] = {}
            for h in self.table.hosts:
                ch = self.table.legit[(h, c.name)]
                pub = pubs[h]
                acc = (pub[:, ch.leaf].any(-1) | pub[:, ch.ca].any(-1)).T  # (S, T over f)
                acc_tf = acc[seg]  # (t, f)
                trusted = ch.trusted[seg]  # (t,)
                enf = fresh & pinned[h] & strategy.enforce
                chk = fresh & pinned[h]
                lk_h = ~trusted[:, None] | (enf & ~acc_tf)
                lk_enf |= lk_h
                lk_off |= ~trusted
                vi |= trusted[:, None] & chk & ~acc_tf
                lock_host[c.name][h] = None
                for a in self.attack_labels:
                    if h not in self._targets_of(a):
                        continue
                    ach = self.table.attack[(a, h, c.name)]
                    acc_a = (pub[:, ach.leaf].any(-1) | pub[:, ach.ca].any(-1)).T[seg]
                    at = ach.trusted[seg]
                    rej_enf[a] &= ~at[:, None] | (enf & ~acc_a)
                    rej_off[a] &= ~at
            ev = {"lock": (lk_enf, lk_off), "violation": (vi, np.zeros(T, dtype=bool))}
            ev |= {f"protected:{a}": (~lk_enf & rej_enf[a], ~lk_off & rej_off[a]) for a in self.attack_labels}
            events[c.name] = ev
            lock[c.name] = prob(*ev["lock"])
            violate[c.name] = prob(*ev["violation"])
            protect[c.name] = {a: prob(*ev[f"protected:{a}"]) for a in self.attack_labels}
        return StrategyTables(
            strategy, releases, np.arange(T), np.arange(T), lock, violate, protect, lock_host,
            per_day=True, events=events,
        )

    # ======================================================================= counts
    def cohorts_expected(self) -> Cohorts:
        return Cohorts.expected(self.scenario.fleet, self.days, self.comply_share)

    def counts(
        self, tables: StrategyTables, cohorts: dict[str, Cohorts] | Cohorts
    ) -> dict[str, np.ndarray]:
        """Users on each version on each day, per client kind, with forced-update prompts.

        ``cohorts`` is either one expected :class:`Cohorts` for the whole fleet (split across
        client kinds by share) or sampled cohorts per client kind.
        """
        r = tables.release_days
        out: dict[str, np.ndarray] = {}
        shared = isinstance(cohorts, Cohorts)
        base_x = exact_counts(cohorts.at_least(r)) if shared else None
        fixes = [k for k, rel in enumerate(tables.releases) if rel.kind == "fix"]
        for c in self.clients:
            coh = cohorts if shared else cohorts[c.name]
            scale = c.share if shared else 1.0
            if fixes and self.comply_share > 0:
                ge = coh.at_least(r)
                extra = self._prompted(tables, c, coh, fixes, scale)
                out[c.name] = scale * exact_counts(ge) + exact_counts(extra)
            else:
                out[c.name] = scale * (base_x if shared else exact_counts(coh.at_least(r)))
        return out

    def _cohort_weights(self, coh: Cohorts, release_days: np.ndarray) -> np.ndarray:
        """(V, T+2) complier weights by install window (0 = present at start) and lag."""
        T = self.days
        W = np.zeros((len(release_days), T + 2))
        W[0] = coh.base_complier
        if coh.installs_complier is not None:
            win = windows(release_days, T)
            np.add.at(W, win, coh.installs_complier)
        return W

    def prompt_days(
        self, tables: StrategyTables, client: ClientKind, j: np.ndarray, ell: np.ndarray, fixes
    ) -> np.ndarray:
        """(n, F): the day from which each complier cohort runs fix F (or int max if never).

        A cohort is (install window j, lag ℓ); ℓ > T means "never updates". Prompts are seen on
        the fix's release day by compliers below the fix who can reach the update check.
        """
        T = self.days
        r = tables.release_days
        newest = windows(r, T)
        floor = np.full(len(j), -1)
        E_fix = np.full((len(j), len(fixes)), np.iinfo(np.int64).max, dtype=np.int64)
        host = self.update_host
        lock_host = tables.lock_host[client.name].get(host) if host is not None else None
        for n, k in enumerate(fixes):
            rf = int(r[k])
            version = np.maximum(np.maximum(normal_version(newest, ell, rf), j), floor)
            if lock_host is None:
                reach = np.ones(len(j), dtype=bool)
            else:
                reach = ~lock_host[version, tables.seg_of_day[rf]]
            hit = (version < k) & reach
            floor = np.where(hit, k, floor)
            E_fix[hit, n] = rf + 1
        return E_fix

    def _prompted(self, tables: StrategyTables, client: ClientKind, coh: Cohorts, fixes, scale):
        """Extra users on version ≥ k because they obeyed a forced-update prompt.

        Semantics: on a fix's release day, every complier whose version is older than the fix and
        who can reach the update-check endpoint that day (their version is not locked on that
        host, or the endpoint is unpinned) installs the newest release and runs it from the next
        day; afterwards they update by their own lag as before. Users are never moved down, so
        the share on version ≥ k never drops below the share on ≥ k + 1.
        """
        T = self.days
        r = tables.release_days
        V = len(r)
        W = scale * self._cohort_weights(coh, r)  # (V windows, T+2 lags)
        j = np.repeat(np.arange(V), T + 2)
        ell = np.tile(np.arange(T + 2), V)
        w = W.ravel()
        keep = w > 0
        j, ell, w = j[keep], ell[keep], w[keep]
        E_fix = self.prompt_days(tables, client, j, ell, fixes)
        # E[cohort, k]: first day the floor reaches ≥ k (prompted by a fix with index ≥ k).
        extra = np.zeros((V, T + 1))
        fix_arr = np.array(fixes)
        best = np.full(len(w), np.iinfo(np.int64).max, dtype=np.int64)
        pos = len(fixes) - 1
        for k in range(V - 1, 0, -1):
            while pos >= 0 and fix_arr[pos] >= k:
                best = np.minimum(best, E_fix[:, pos])
                pos -= 1
            if not np.any(best < T):
                continue
            stop = np.minimum(r[k] + np.where(ell > T, T, ell), T)  # normal path reaches k
            m = (j < k) & (best < stop)
            if not m.any():
                continue
            np.add.at(extra[k], best[m], w[m])
            np.add.at(extra[k], stop[m], -w[m])
        return np.cumsum(extra[:, :T], axis=1)

    # ======================================================================= series
    def _columns(self) -> list[str]:
        cols = ["locked", "violation", *[f"protected:{a}" for a in self.attack_labels]]
        return cols + [f"locked:{p}" for p in self.platforms]

    def _verdicts(self, tables: StrategyTables, client: ClientKind) -> list[np.ndarray]:
        """Per client-level column (locked, violation, protected per attack): (V, S) verdicts."""
        mats = [tables.lock[client.name], tables.violate[client.name]]
        return mats + [tables.protect[client.name][a] for a in self.attack_labels]

    def series(self, tables: StrategyTables, counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Daily users locked / newly locked / protected / violating for one strategy."""
        return self.series_many([tables], counts)[0]

    def series_many(
        self,
        tables_list: list[StrategyTables],
        counts: dict[str, np.ndarray],
        everyone: np.ndarray | None = None,
        cache: dict | None = None,
    ) -> list[dict[str, np.ndarray]]:
        """Daily series of several strategies that share one release list (and so counts).

        Static strategies are evaluated together: on each segment where no verdict changes, one
        matrix product (verdicts of every strategy, client kind and column) × (users per
        version). Verdicts stay 0/1 (exact); client-kind weights are applied afterwards. When
        ``everyone`` is given, each client kind's counts are its share of it (expected mode).
        ``cache`` (owned by the caller) keeps the verdict array between calls with the same
        tables, e.g. across Monte Carlo replications of one calendar.
        """
        T = self.days
        K0 = 2 + len(self.attack_labels)
        results: list[dict[str, np.ndarray] | None] = [None] * len(tables_list)
        static = [i for i, tb in enumerate(tables_list) if not tb.per_day]
        for i, tb in enumerate(tables_list):
            if tb.per_day:
                per_client = {}
                for c in self.clients:
                    x = counts[c.name]
                    cols = np.stack([(x * m).sum(axis=0) for m in self._verdicts(tb, c)], axis=1)
                    newly = np.zeros(T)
                    newly[1:] = (x[:, 1:] * np.clip(np.diff(tb.lock[c.name], axis=1), 0.0, None)).sum(axis=0)
                    per_client[c.name] = (cols, newly)
                results[i] = self._combine(per_client, {c.name: 1.0 for c in self.clients})
        if not static:
            return results  # type: ignore[return-value]
        common = np.unique(np.concatenate([tables_list[i].seg_start for i in static]))
        ends = np.append(common[1:], T)
        release_days = tables_list[static[0]].release_days
        # versions released by the end of each segment (later versions have no users yet)
        released = np.searchsorted(release_days, ends - 1, side="right")
        if everyone is not None:
            groups = [(everyone, [c.name for c in self.clients])]
            weights = {c.name: c.share for c in self.clients}
        else:
            groups = [(counts[c.name], [c.name]) for c in self.clients]
            weights = {c.name: 1.0 for c in self.clients}
        by_name = {c.name: c for c in self.clients}
        raw: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
        for x, names in groups:
            V = x.shape[0]
            blocks = [(j, name) for j in range(len(static)) for name in names]
            key = (tuple(id(tables_list[i]) for i in static), tuple(names))
            M = cache.get(key) if cache is not None else None
            if M is None:
                # (segments, blocks × columns, versions) of 0/1: writes are contiguous runs
                M = np.zeros((len(common), len(blocks) * K0, V), dtype=np.uint8)
                for b, (j, name) in enumerate(blocks):
                    tb = tables_list[static[j]]
                    spread = tb.seg_of_day[common]
                    same = len(spread) == len(tb.seg_start)  # no extra refinement here
                    for k, m in enumerate(self._verdicts(tb, by_name[name])):
                        M[:, b * K0 + k, :] = m.T if same else m.T[spread]
                if cache is not None:
                    cache[key] = M
            newly = {}
            for b, (j, name) in enumerate(blocks):
                tb = tables_list[static[j]]
                lock = tb.lock[name]
                nl = np.zeros(T)
                days = tb.seg_start[1:]
                if len(days):
                    flips = lock[:, 1:] & ~lock[:, :-1]  # broke at the segment start
                    nl[days] = (x[:, days] * flips).sum(axis=0)
                newly[b] = nl
            out = np.zeros((T, len(blocks) * K0))
            for s, (d0, d1) in enumerate(zip(common, ends, strict=True)):
                v = released[s]
                out[d0:d1] = (M[s, :, :v].astype(np.float64) @ x[:v, d0:d1]).T
            for b, (j, name) in enumerate(blocks):
                raw[(j, name)] = (out[:, b * K0 : (b + 1) * K0], newly[b])
        for j, i in enumerate(static):
            per_client = {c.name: raw[(j, c.name)] for c in self.clients}
            results[i] = self._combine(per_client, weights)
        return results  # type: ignore[return-value]

    def _combine(self, per_client: dict[str, tuple[np.ndarray, np.ndarray]], weights) -> dict[str, np.ndarray]:
        """Weighted sum of client-level columns into the named daily series."""
        T = self.days
        K0 = 2 + len(self.attack_labels)
        total = np.zeros((T, K0))
        newly = np.zeros(T)
        by_platform = {p: np.zeros(T) for p in self.platforms}
        for c in self.clients:
            cols, nl = per_client[c.name]
            w = weights[c.name]
            total += w * cols
            newly += w * nl
            by_platform[c.platform] += w * cols[:, 0]
        out = {"locked": total[:, 0], "violation": total[:, 1], "newly_locked": newly}
        out |= {f"protected:{a}": total[:, 2 + n] for n, a in enumerate(self.attack_labels)}
        out |= {f"locked:{p}": v for p, v in by_platform.items()}
        return out

    def latest_locked(self, tables: StrategyTables, threshold: float) -> np.ndarray:
        """(T,) whether the newest release fails for some client kind on each day."""
        newest = windows(tables.release_days, self.days)
        seg = tables.seg_of_day
        out = np.zeros(self.days, dtype=bool)
        for c in self.clients:
            lk = tables.lock[c.name][newest, seg]
            out |= lk > threshold if tables.per_day else lk
        return out

    # ==================================================================== strategies
    def run_strategy(
        self, strategy: PinningStrategy, cohorts: dict[str, Cohorts] | Cohorts, active: np.ndarray
    ) -> StrategyRun:
        """Evaluate one strategy, shipping out-of-cycle fixes when incident response is on.

        An incident is detected on day d when the newest release fails for some clients, or when
        the lockout rate rises above ``threshold``; none is detected while a fix is in
        preparation. The fix is built ``detect_days`` later with the pins of that day and
        released ``review_days`` after the build.
        """
        ir = self.scenario.incident_response
        releases = list(self.base_releases)
        fixes: list[Release] = []
        guard = -1
        while True:
            tables = self.tables(strategy, releases)
            counts = self.counts(tables, cohorts)
            series = self.series(tables, counts)
            if ir is None:
                break
            rate = series["locked"] / active
            above = rate > ir.threshold
            crossing = above & ~np.concatenate([[False], above[:-1]])
            trigger = crossing | self.latest_locked(tables, ir.threshold)
            trigger[: guard + 1] = False
            hits = np.flatnonzero(trigger)
            if not len(hits):
                break
            d = int(hits[0])
            build = d + ir.detect_days
            release = build + ir.review_days
            if release > self.days - 1:
                break
            fix = Release(f"fix{len(fixes) + 1}", build, release, "fix")
            fixes.append(fix)
            releases = sort_releases([*releases, fix])
            guard = release - 1
        return StrategyRun(tables, counts, series, fixes)


def simulate(scenario: Scenario, *, seed: np.random.SeedSequence | None = None):
    """Run a scenario in expected mode and return a :class:`simlib.results.expected.SimulationResult`."""
    from simlib.results.expected import SimulationResult

    sim = Simulation(scenario, seed=seed)
    cohorts = sim.cohorts_expected()
    active = cohorts.active_users()
    if scenario.incident_response is not None:
        runs = {st.name: sim.run_strategy(st, cohorts, active) for st in sim.strategies}
        return SimulationResult(sim, runs, active, mode="expected")
    # Without incident fixes every strategy has the same releases, so the users on each version
    # are computed once and all strategies are evaluated together.
    tables = [sim.tables(st, sim.base_releases) for st in sim.strategies]
    everyone = exact_counts(cohorts.at_least(tables[0].release_days))
    counts = {c.name: c.share * everyone for c in sim.clients}
    series = sim.series_many(tables, counts, everyone)
    runs = {
        st.name: StrategyRun(tb, counts, se) for st, tb, se in zip(sim.strategies, tables, series, strict=True)
    }
    return SimulationResult(sim, runs, active, mode="expected")
