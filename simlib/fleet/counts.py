"""Users on version ≥ k on day t, looked up on demand instead of stored as a (versions × days) array.

The engine sums users over versions by *summation by parts*: the users on exactly version k are
A(k, t) − A(k+1, t), so Σ_k m_k · users_k(t) = Σ_k (m_k − m_{k−1}) · A(k, t). A verdict column m
over versions changes at a few versions only (a renewal splits versions built before and after
it), so only those A(k, t) are ever needed, and cost grows with days × breakpoints instead of days
× versions. Every A(k, t) is the same exact expression the dense array held:

* users present at start: Σ_{ℓ ≤ t − r_k} w_ℓ (their lag ℓ has passed since release k);
* installs: everybody installed since r_k (they got release ≥ k), plus those installed before r_k
  whose own lag has passed since r_k;
* forced-update prompts: a sparse list of (version, day, ±users) steps (:mod:`simlib.engine.prompts`).
"""

from __future__ import annotations

import numpy as np

from simlib.fleet.cohorts import Cohorts


class AtLeast:
    """A(k, t): users on version ≥ k on day t for one client kind (or the whole fleet).

    ``scale`` multiplies the users from the cohorts (a client kind's share of an expected fleet).
    ``steps``: optional (version, day, users) arrays of prompt corrections (already scaled), each
    adding ``users`` to A(version, t) for t ≥ day.
    """

    def __init__(
        self,
        cohorts: Cohorts,
        release_days: np.ndarray,
        *,
        which: str = "all",
        scale: float = 1.0,
        steps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        T = cohorts.days
        self.days = T
        self.r = np.asarray(release_days, dtype=np.int64)
        base = cohorts.base if which == "all" else cohorts.base_complier
        installs = cohorts.installs if which == "all" else cohorts.installs_complier
        self.scale = scale
        self._cum = np.concatenate([[0.0], np.cumsum(base[:-1])])  # [d+1] = lag ≤ d
        self._total = float(base.sum())
        self._installs = None
        if installs is not None:
            totals = installs.sum(axis=1)
            arrived = np.concatenate([[0.0], np.cumsum(totals)])  # [a+1] = installs on days ≤ a
            self._arrived = arrived
            if cohorts.installs_separable:
                # Expected mode: every day's installs share one lag distribution, so installs
                # before day a with lag ≤ d are (installs before a) × P(ℓ ≤ d): no (days × lags)
                # table is needed.
                shape = installs[0] / max(installs[0].sum(), 1e-300)
                self._installs = ("separable", np.concatenate([[0.0], np.cumsum(shape[:-1])]))
            else:
                # Sampled installs: cumulative lag counts of everybody installed before each
                # release (versions × lags).
                by_lag = np.cumsum(installs[:, :-1], axis=1)  # (T, T+1): lag ≤ d
                before = np.zeros((len(self.r), T + 1))
                for k, rk in enumerate(self.r):
                    if rk > 0:
                        before[k] = by_lag[:rk].sum(axis=0)
                self._installs = ("table", before)
        self._steps = None
        if steps is not None and len(steps[0]):
            k, day, w = steps
            key = k.astype(np.int64) * (T + 2) + np.minimum(day, T + 1)
            order = np.argsort(key, kind="stable")
            key, w = key[order], w[order]
            cum = np.concatenate([[0.0], np.cumsum(w)])
            # cumulative weight at the start of each version's block, to reset per version
            starts = np.searchsorted(key, np.arange(len(self.r) + 1) * (T + 2))
            self._steps = (key, cum, starts)

    @property
    def total_start(self) -> float:
        return self._total

    def exactly(self, k: np.ndarray | int, t: np.ndarray | int) -> np.ndarray:
        """Users on exactly version k on day t: A(k, t) − A(k + 1, t), with A(V, t) = 0."""
        k, t = np.broadcast_arrays(np.asarray(k, dtype=np.int64), np.asarray(t, dtype=np.int64))
        above = np.where(k + 1 < len(self.r), self(np.minimum(k + 1, len(self.r) - 1), t), 0.0)
        return self(k, t) - above

    def table(self) -> np.ndarray:
        """(V, T) users on exactly each version on each day (dense: for dynamic strategies,
        diagnostics and tests; the engine's static path never builds it)."""
        k = np.arange(len(self.r))[:, None]
        return self.exactly(k, np.arange(self.days)[None, :])

    def __call__(self, k: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A(k, t) for paired arrays of versions and days (broadcast)."""
        k, t = np.broadcast_arrays(np.asarray(k, dtype=np.int64), np.asarray(t, dtype=np.int64))
        r = self.r[k]
        d = t - r
        out = np.where(d >= 0, self._cum[np.clip(d, -1, self.days) + 1], 0.0)
        out = np.where(k == 0, self._total, out)
        if self._installs is not None:
            arrived = self._arrived
            since = np.where(d >= 0, arrived[t + 1] - arrived[np.maximum(r, 0)], 0.0)
            kind, table = self._installs
            dd = np.clip(d, 0, self.days)
            if kind == "separable":
                prior = arrived[np.maximum(r, 0)] * table[dd + 1]
            else:
                prior = table[k, dd]
            inst = np.where(d >= 0, since + prior, 0.0)
            out = out + np.where(k == 0, arrived[t + 1], inst)
        if self.scale != 1.0:
            out = self.scale * out
        if self._steps is not None:
            key, cum, starts = self._steps
            pos = np.searchsorted(key, k * (self.days + 2) + t, side="right")
            out = out + cum[pos] - cum[starts[k]]
        return out
