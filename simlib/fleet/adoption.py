"""The adoption curve G(d): the share of users who have installed a release d days after it came out."""

from __future__ import annotations

import numpy as np

from simlib.model import Adoption


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
