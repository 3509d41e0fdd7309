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

from simlib.fleet.adoption import AdoptionCurve
from simlib.fleet.cohorts import Cohorts


class AtLeast:
    """A(k, t): users on version ≥ k on day t for one client kind (or the whole fleet).

    ``scale`` multiplies the users from the cohorts (a client kind's share of an expected fleet).
    ``steps``: optional (version, day, users) arrays of prompt corrections (already scaled), each
    adding ``users`` to A(version, t) for t ≥ day. ``curve``: the adoption curve the weights
    are the exact expected values of (expected mode), which enables the closed form of
    :meth:`piece_terms` for every released version.
    """

    def __init__(
        self,
        cohorts: Cohorts,
        release_days: np.ndarray,
        *,
        which: str = "all",
        scale: float = 1.0,
        steps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        curve: AdoptionCurve | None = None,
    ) -> None:
        T = cohorts.days
        self.days = T
        self.r = np.asarray(release_days, dtype=np.int64)
        base = cohorts.base if which == "all" else cohorts.base_complier
        parts = cohorts.install_parts(which)
        self.scale = scale
        self._cum = np.concatenate([[0.0], np.cumsum(base[:-1])])  # [d+1] = lag ≤ d
        self._total = float(base.sum())
        self._installs = None
        if parts is not None:
            totals, lags = parts
            arrived = np.concatenate([[0.0], np.cumsum(totals)])  # [a+1] = installs on days ≤ a
            self._arrived = arrived
            if cohorts.installs_separable:
                # Expected mode: every day's installs share one lag distribution, so installs
                # before day a with lag ≤ d are (installs before a) × P(ℓ ≤ d): no (days × lags)
                # table is needed.
                shape = lags / max(lags.sum(), 1e-300)
                self._installs = ("separable", np.concatenate([[0.0], np.cumsum(shape[:-1])]))
            else:
                # Sampled installs: cumulative lag counts (lags 0..L, the largest drawn) of
                # everybody installed before each release (versions × L+1).
                by_window = cohorts.installs_by_window(self.r, which)[:, :-1]
                before = np.cumsum(np.cumsum(by_window, axis=1), axis=0)
                self._installs = (
                    "table",
                    np.concatenate([np.zeros((1, before.shape[1])), before[:-1]]),
                )
        self._model = self._choose_model(cohorts, base, parts, curve, steps)
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

    # ---------------------------------------------------------------- closed forms per piece
    def _choose_model(self, cohorts, base, parts, curve, steps):
        """How A(k, t) may be written per piece of days (see :meth:`piece_terms`).

        ``("exp", g∞, h, τ)``: expected weights of a mixture curve G(d) = g∞ − Σ_c h_c e^(−d/τ_c)
        (installs included: they follow G from their install day), valid for every released
        version. ``("sat", D)``: no finite lag of D days or more has any weight (an empirical
        curve, or sampled lags), so A(k, t) = const_k + installs(t) once t − r_k ≥ D.
        ``None``: prompt steps change A(k, t) on prompt days; every value is looked up.
        """
        if steps is not None and len(steps[0]):
            return None
        if (
            curve is not None
            and curve.spec.components is not None
            and (parts is None or cohorts.installs_separable)
        ):
            h = (1.0 - curve.spec.never_update_share) * curve._w
            return ("exp", float(h.sum()), h, curve._tau)
        finite = np.flatnonzero(base[:-1] > 0)
        last = int(finite[-1]) if len(finite) else -1
        if parts is not None:
            lags = parts[1]
            if cohorts.installs_separable:
                drawn = np.flatnonzero(lags[:-1] > 0)
                last = max(last, int(drawn[-1]) if len(drawn) else -1)
            else:  # columns 0..L are lags, the last one "never"
                last = max(last, lags.shape[1] - 2)
        return ("sat", last + 1)

    @property
    def exact_closed_form(self) -> bool:
        """Every released version has a closed form (:meth:`piece_terms` never falls back)."""
        return self._model is not None and self._model[0] == "exp"

    def piece_terms(self, k: np.ndarray, t0: np.ndarray):
        """Closed form of A(k, t) on days t ≥ t0 of a piece where version k is already out.

        Returns (valid, const, installs, decay, tau): for valid entries, A(k, t) = const +
        installs · I(t) + Σ_c decay[:, c] · e^(−(t − t0)/τ_c), with I(t) the installs up to day
        t. Exact in real arithmetic (the closed form of the lag weights), so cost per piece
        does not grow with how many versions came before.
        """
        k = np.asarray(k, dtype=np.int64)
        t0 = np.asarray(t0, dtype=np.int64)
        r = self.r[k]
        zero = k == 0
        has_inst = self._installs is not None
        arr_k = self._arrived[np.maximum(r, 0)] if has_inst else np.zeros(len(k))
        installs = np.where(has_inst, 1.0, 0.0) * np.ones(len(k))
        model = self._model
        if model is None:
            valid = np.zeros(len(k), dtype=bool)
            return valid, np.zeros(len(k)), installs, np.zeros((len(k), 0)), np.zeros(0)
        if model[0] == "exp":
            _, g_inf, h, tau = model
            N = self._total
            valid = r <= t0
            const = np.where(zero, N, N * g_inf - arr_k * (1.0 - g_inf))
            age = np.maximum(t0 - r, 0)[:, None]
            decay = -(h[None, :] * (N + arr_k)[:, None]) * np.exp(-age / tau[None, :])
            decay[zero] = 0.0
        else:
            D = model[1]
            valid = zero | (t0 - r >= D)
            dd = min(D, self.days)
            const = np.full(len(k), self._cum[dd + 1] if dd + 1 < len(self._cum) else self._cum[-1])
            if has_inst:
                kind, table = self._installs
                prior = (
                    arr_k * table[dd + 1]
                    if kind == "separable"
                    else table[k, min(dd, table.shape[1] - 1)]
                )
                const = const - arr_k + prior
            const = np.where(zero, self._total, const)
            tau = np.zeros(0)
            decay = np.zeros((len(k), 0))
        s = self.scale
        return valid, s * const, s * installs, s * decay, tau

    def installs_to(self, t: np.ndarray) -> np.ndarray:
        """I(t): users installed on days ≤ t (0 without installs)."""
        if self._installs is None:
            return np.zeros(np.shape(t))
        return self._arrived[np.asarray(t) + 1]

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
                prior = table[k, np.minimum(dd, table.shape[1] - 1)]  # no lag drawn above L
            inst = np.where(d >= 0, since + prior, 0.0)
            out = out + np.where(k == 0, arrived[t + 1], inst)
        if self.scale != 1.0:
            out = self.scale * out
        if self._steps is not None:
            key, cum, starts = self._steps
            pos = np.searchsorted(key, k * (self.days + 2) + t, side="right")
            out = out + cum[pos] - cum[starts[k]]
        return out
