"""Random streams: every random draw in simlib comes from a stream keyed below one seed."""

from __future__ import annotations

import numpy as np


def child(seed: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The stream keyed ``key`` below ``seed`` (what SeedSequence.spawn hands out by position),
    so a stream depends only on its position, never on how many streams were drawn before."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *key))


def as_seed(seed: int | np.random.SeedSequence | None, default: int) -> np.random.SeedSequence:
    """A SeedSequence from an int, an existing SeedSequence, or ``default`` when None."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(default if seed is None else seed)
