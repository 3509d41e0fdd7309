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

from dataclasses import dataclass

import numpy as np

from simlib.model import Adoption, Fleet


class AdoptionCurve:
    """G(d), the share of users who have installed a release d whole days after it came out."""

    def __init__(self, spec: Adoption) -> None:
        self.spec = spec
        if spec.components is not None:
            self._w = np.array([c.weight for c in spec.components])
            self._tau = np.array([c.mean_lag_days for c in spec.components])
            self._points = None
        else:
            pts = list(spec.points or [])
            if pts[0][0] > 0:
                pts.insert(0, (0.0, 0.0))  # nobody has a release before it exists
            self._points = (np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))

    def share(self, d: np.ndarray | float) -> np.ndarray:
        """G(d) for day offsets ``d`` (G(d) = 0 for d < 0)."""
        d = np.asarray(d, dtype=float)
        out = np.zeros(d.shape)
        pos = d >= 0
        if self._points is None:
            dd = d[pos][..., None]
            g = (1 - np.exp(-dd / self._tau)) @ self._w
            out[pos] = (1 - self.spec.never_update_share) * g
        else:
            xs, ys = self._points
            out[pos] = np.interp(d[pos], xs, ys)
        return out

    def lag_pmf(self, horizon: int) -> np.ndarray:
        """P(ℓ = 0..horizon) followed by P(ℓ > horizon) (users who never update in time)."""
        g = self.share(np.arange(horizon + 1))
        pmf = np.diff(g, prepend=0.0)
        pmf = np.clip(pmf, 0.0, None)  # guards rounding in interpolated curves
        return np.append(pmf, max(0.0, 1.0 - g[-1]))


@dataclass(frozen=True)
class Release:
    """An app version: built on ``build_day`` with the pins of that day, published on ``release_day``."""

    label: str
    build_day: int
    release_day: int
    kind: str = "regular"  # or "fix" (out-of-cycle incident release)


def regular_releases(days: int, every: int, lead: int) -> list[Release]:
    """Version 0 is built and released on day 0; version k is released on k·every, built ``lead``
    days earlier (never before day 0). Releases after the last simulated day are irrelevant."""
    out = []
    for k in range((days - 1) // every + 1):
        r = k * every
        out.append(Release(f"v{k}", 0 if k == 0 else max(0, r - lead), r))
    return out


def sort_releases(releases: list[Release]) -> list[Release]:
    """Release order; an out-of-cycle fix released the same day as a regular build counts as newer."""
    return sorted(releases, key=lambda r: (r.release_day, r.build_day, r.kind == "fix"))


def windows(release_days: np.ndarray, days: int) -> np.ndarray:
    """For each day, the index of the newest release (what a new install gets)."""
    return np.searchsorted(release_days, np.arange(days), side="right") - 1


def normal_version(newest: np.ndarray, lag: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """The version a user with lag ℓ runs on ``day`` by their own updating: the newest release
    of day − ℓ (``newest`` from :func:`windows`), version 0 before that, and version 0 forever
    for ℓ > T (users who never update within the horizon). Broadcasts ``lag`` against ``day``."""
    T = len(newest)
    d = np.asarray(day) - lag
    return np.where((lag > T) | (d < 0), 0, newest[np.clip(d, 0, T - 1)])


def prompt_floor(prompted: np.ndarray, fixes: list[int], days: int) -> np.ndarray:
    """(n, T) lowest version each complier group runs on each day because of forced-update
    prompts (−1: none yet). ``prompted[i, n]`` is the day from which group i runs fix ``fixes[n]``
    (int max if never), as returned by :meth:`simlib.engine.simulation.Simulation.prompt_days`."""
    t = np.arange(days)
    floor = np.full((len(prompted), days), -1)
    for n, k in enumerate(fixes):
        start = np.minimum(prompted[:, n], days)
        floor = np.where(t[None, :] >= start[:, None], np.maximum(floor, k), floor)
    return floor


class Cohorts:
    """Users grouped by lag (and install day): weights are expected users or sampled counts.

    Attributes
    ----------
    base : (T+2,) weights of the users present on day 0, by lag 0..T and "never within T".
    installs : (T, T+2) weights of users installing on day a, by lag; ``None`` without installs.
    complier : fraction (expected) — or ``base_c``/``installs_c`` counts (sampled) — of users who
        obey a forced-update prompt.
    """

    def __init__(
        self,
        days: int,
        base: np.ndarray,
        installs: np.ndarray | None,
        base_complier: np.ndarray,
        installs_complier: np.ndarray | None,
        install_totals: np.ndarray | None,
    ) -> None:
        self.days = days
        self.base = base
        self.installs = installs
        self.base_complier = base_complier
        self.installs_complier = installs_complier
        self.install_totals = install_totals  # (T,) users arriving each day
        #: every day's installs share one lag distribution (expected mode): A(k, t) then needs
        #: no (days × lags) table (:class:`simlib.fleet.counts.AtLeast`).
        self.installs_separable = False

    # ----------------------------------------------------------------------- constructors
    @classmethod
    def expected(cls, fleet: Fleet, days: int, comply_share: float = 0.0) -> Cohorts:
        pmf = AdoptionCurve(fleet.adoption).lag_pmf(days)
        base = fleet.users * pmf
        per_day = fleet.new_installs.per_day if fleet.new_installs else 0.0
        installs = totals = inst_c = None
        if per_day > 0:
            totals = np.full(days, float(per_day))
            installs = np.outer(totals, pmf)
            inst_c = comply_share * installs
        out = cls(days, base, installs, comply_share * base, inst_c, totals)
        out.installs_separable = True
        return out

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

        ``pmf`` is :meth:`AdoptionCurve.lag_pmf` (normalised here against rounding).
        """
        pmf = pmf / pmf.sum()
        base = rng.multinomial(users, pmf)
        base_c = rng.binomial(base, comply_share) if comply_share > 0 else np.zeros_like(base)
        installs = totals = inst_c = None
        if installs_per_day > 0:
            totals = rng.poisson(installs_per_day, size=days)
            installs = rng.multinomial(totals, pmf)
            inst_c = (
                rng.binomial(installs, comply_share) if comply_share > 0 else np.zeros_like(installs)
            )
            installs, inst_c, totals = installs.astype(float), inst_c.astype(float), totals.astype(float)
        return cls(days, base.astype(float), installs, base_c.astype(float), inst_c, totals)

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


def exact_counts(at_least: np.ndarray) -> np.ndarray:
    """(V, T) users on exactly version k from users on ≥ k (releases in order)."""
    x = at_least.copy()
    x[:-1] -= at_least[1:]
    return x
