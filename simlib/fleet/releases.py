"""Releases and version paths: which version a user with update lag ℓ runs on a day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def prompt_floor(prompted: np.ndarray, fixes: list[int], day: np.ndarray) -> np.ndarray:
    """(n, len(day)) lowest version each complier group runs on each of ``day`` because of
    forced-update prompts (−1: none yet): the prompted part of the one version path (the user
    runs max(:func:`normal_version`, floor)). ``prompted[i, n]`` is the day from which group i
    runs fix ``fixes[n]`` (int max if never), as returned by
    :func:`simlib.engine.prompts.prompt_days`. Evaluated at the days asked for only (every day
    for the Monte Carlo panel, the rows where a step can happen for outage spells)."""
    day = np.asarray(day)
    floor = np.full((len(prompted), len(day)), -1)
    for n, k in enumerate(fixes):
        floor = np.where(day[None, :] >= prompted[:, n, None], np.maximum(floor, k), floor)
    return floor
