"""The app fleet: releases, update adoption and how many users run each version on each day.

User model (see docs/model.md): every user has a persistent update lag ℓ (whole days, or ∞ for
users who never update) drawn from the adoption curve G, P(ℓ ≤ d) = G(d). A user runs release k on
day t once r_k + ℓ ≤ t, and always runs the newest such release, so the share on version ≥ k is
exactly G(t − r_k) and shares are consistent across versions by construction.

Expected mode and Monte Carlo share this code: a :class:`Cohorts` holds *weights* per lag — the
expected numbers of users (N·P(ℓ)) or sampled integer counts — and every count below is a linear
function of those weights. So the Monte Carlo mean equals expected mode by construction, up to the
non-linear parts (incident detection), which are tested separately.
"""

from __future__ import annotations

import numpy as np

from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.releases import windows
from simlib.model import Fleet


class Cohorts:
    """Users grouped by lag (and install day): weights are expected users or sampled counts.

    Attributes
    ----------
    base : (T+2,) weights of the users present on day 0, by lag 0..T and "never within T".
    base_complier : the same for users who obey a forced-update prompt.
    install_totals : (T,) users arriving on each day; ``None`` without installs.
    install_lags, install_lags_complier : how each day's installs split by lag, compactly —
        expected mode: one (T+2,) lag distribution shared by every day (``installs_separable``;
        ``complier_totals`` then carries the complier share);
        sampled: a (T, L+2) table of counts, columns = lags 0..L then "never within T", where L is
        the largest lag drawn (no install has a lag in L+1..T). :attr:`installs` expands it.
    """

    def __init__(
        self,
        days: int,
        base: np.ndarray,
        base_complier: np.ndarray,
        install_totals: np.ndarray | None = None,
        install_lags: np.ndarray | None = None,
        install_lags_complier: np.ndarray | None = None,
        *,
        separable: bool = False,
        complier_totals: np.ndarray | None = None,
    ) -> None:
        self.days = days
        self.base = base
        self.base_complier = base_complier
        self.install_totals = install_totals  # (T,) users arriving each day
        self.install_lags = install_lags
        self.install_lags_complier = install_lags_complier
        self.complier_totals = complier_totals
        #: every day's installs share one lag distribution (expected mode): A(k, t) then needs
        #: no (days × lags) table (:class:`simlib.fleet.counts.AtLeast`).
        self.installs_separable = separable

    # ----------------------------------------------------------------------- constructors
    @classmethod
    def expected(cls, fleet: Fleet, days: int, comply_share: float = 0.0) -> Cohorts:
        pmf = AdoptionCurve(fleet.adoption).lag_pmf(days)
        base = fleet.users * pmf
        per_day = fleet.new_installs.per_day if fleet.new_installs else 0.0
        if per_day <= 0:
            return cls(days, base, comply_share * base, separable=True)
        totals = np.full(days, float(per_day))
        return cls(
            days,
            base,
            comply_share * base,
            totals,
            pmf,
            pmf,
            separable=True,
            complier_totals=comply_share * totals,
        )

    @classmethod
    def sample(
        cls,
        pmf: np.ndarray,
        users: int,
        installs_per_day: float,
        days: int,
        rng: np.random.Generator,
        comply_share: float = 0.0,
    ) -> Cohorts:
        """One random group of users: multinomial lags, binomial compliers, Poisson installs.

        ``pmf`` is :meth:`AdoptionCurve.lag_pmf` (normalised here against rounding). Each day's
        installs are split by lag with the multinomial drawn as a chain of binomials over the
        lags, for all days at once, stopping at the largest lag anybody drew: time and memory are
        days × (largest lag drawn), not days².
        """
        pmf = pmf / pmf.sum()
        base = rng.multinomial(users, pmf)
        base_c = rng.binomial(base, comply_share) if comply_share > 0 else np.zeros_like(base)
        if installs_per_day <= 0:
            return cls(days, base.astype(float), base_c.astype(float))
        totals = rng.poisson(installs_per_day, size=days)
        table = _multinomial_by_day(totals, pmf, rng)
        if comply_share > 0:
            table_c = rng.binomial(table.astype(np.int64), comply_share).astype(np.float32)
        else:  # nobody obeys prompts: a zero view, no second table
            table_c = np.broadcast_to(np.float32(0.0), table.shape)
        return cls(
            days,
            base.astype(float),
            base_c.astype(float),
            totals.astype(float),
            table,
            table_c,
            complier_totals=table_c.sum(axis=1, dtype=float),
        )

    # ------------------------------------------------------------------ installs, by lag
    def install_parts(self, which: str = "all") -> tuple[np.ndarray, np.ndarray] | None:
        """(totals (T,), lags) of all installs or of the compliers among them; ``lags`` is the
        shared (T+2,) lag distribution (separable: installs[a, ℓ] = totals[a] · lags[ℓ]) or the
        (T, L+2) table of counts (see the class)."""
        if self.install_totals is None:
            return None
        if which == "all":
            return self.install_totals, self.install_lags
        return self.complier_totals, self.install_lags_complier

    def lag_index(self) -> np.ndarray:
        """The lag of each column of a sampled install table (the last one: "never", T+1)."""
        L = self.install_lags.shape[1] - 2
        return np.append(np.arange(L + 1), self.days + 1)

    def installs_by_window(self, release_days: np.ndarray, which: str = "all") -> np.ndarray:
        """(V, L+2) installs of each release window (days r_k ≤ a < r_{k+1}) by lag column."""
        totals, lags = self.install_parts(which)
        V = len(release_days)
        win = windows(release_days, self.days)
        if self.installs_separable:
            per = np.bincount(win, weights=totals, minlength=V)
            return per[:, None] * lags[None, :]
        out = np.zeros((V, lags.shape[1]))
        # windows are runs of consecutive days: one block sum per non-empty window
        starts = np.searchsorted(win, np.arange(V))
        full = starts < np.append(starts[1:], len(win))
        if full.any():
            out[full] = np.add.reduceat(lags, starts[full], axis=0, dtype=float)
        return out

    def _dense(self, which: str) -> np.ndarray | None:
        parts = self.install_parts(which)
        if parts is None:
            return None
        totals, lags = parts
        if self.installs_separable:
            return np.outer(totals, lags)
        dense = np.zeros((self.days, self.days + 2))
        dense[:, self.lag_index()] = lags
        return dense

    @property
    def installs(self) -> np.ndarray | None:
        """(T, T+2) installs by day and lag, expanded (tests and diagnostics; O(days²))."""
        return self._dense("all")

    @property
    def installs_complier(self) -> np.ndarray | None:
        return self._dense("complier")

    # ------------------------------------------------------------------------- queries
    @property
    def total_base(self) -> float:
        return float(self.base.sum())

    def active_users(self) -> np.ndarray:
        """Users with the app on each day (the fleet present at start plus installs so far)."""
        act = np.full(self.days, self.total_base)
        if self.install_totals is not None:
            act += np.cumsum(self.install_totals)
        return act

    def at_least(self, release_days: np.ndarray, which: str = "all") -> np.ndarray:
        """(V, T) users on version ≥ k on day t under normal (unprompted) updating.

        ``which``: "all" users or only "complier" weights (used by forced-update corrections).
        """
        T = self.days
        base = self.base if which == "all" else self.base_complier
        installs = self.installs if which == "all" else self.installs_complier
        V = len(release_days)
        out = np.zeros((V, T))
        t = np.arange(T)
        cum = np.cumsum(base[:-1])  # users with lag ≤ d, d = 0..T
        d = t[None, :] - release_days[:, None]  # (V, T) days since release k
        valid = d >= 0
        out[valid] = cum[d[valid]]
        out[0, :] = base.sum()  # everyone runs version ≥ 0
        if installs is not None:
            # Installs on day a get the newest release of day a, then follow their own lag.
            by_day_cum = np.cumsum(installs[:, :-1], axis=1)  # (T_install, T+1) lag ≤ d
            before = np.cumsum(by_day_cum, axis=0)  # installs up to day a, by lag ≤ d
            arrived = np.cumsum(installs.sum(axis=1))  # installs up to day a
            for k, r in enumerate(release_days):
                if k == 0:
                    out[0, :] += arrived
                    continue
                tt = t[t >= r]
                # Installed since r_k: already on ≥ k. Installed before r_k: on ≥ k once ℓ ≤ t − r_k.
                since = arrived[tt] - (arrived[r - 1] if r > 0 else 0.0)
                prior = before[r - 1, tt - r] if r > 0 else 0.0
                out[k, tt] += since + prior
        return out


def _multinomial_by_day(n: np.ndarray, pmf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(len(n), L+2) float32: row a ~ Multinomial(n[a], pmf) over lags 0..L and "never" (pmf's last
    entry), drawn as binomials lag after lag for all rows at once until nobody is left (L: the
    largest lag drawn). Exactly multinomial: P(X_ℓ | earlier) = Bin(left, p_ℓ / Σ_{m ≥ ℓ} p_m)."""
    never = rng.binomial(n, min(1.0, max(0.0, pmf[-1])))
    left = n - never
    finite = pmf[:-1]
    tail = np.cumsum(finite[::-1])[::-1]
    cols = []
    for lag in range(len(finite)):
        if not left.any():
            break
        p = 1.0 if lag == len(finite) - 1 or tail[lag] <= 0 else min(1.0, finite[lag] / tail[lag])
        x = rng.binomial(left, p)
        cols.append(x.astype(np.float32))  # counts per day and lag are far below 2**24: exact
        left = left - x
    if not cols:
        cols = [np.zeros(len(n), dtype=np.float32)]
    return np.column_stack([*cols, never.astype(np.float32)])


def exact_counts(at_least: np.ndarray) -> np.ndarray:
    """(V, T) users on exactly version k from users on ≥ k (releases in order)."""
    x = at_least.copy()
    x[:-1] -= at_least[1:]
    return x
