"""How a job's progress grows over its running time: real providers are rarely linear."""

from __future__ import annotations

import math
from typing import Literal, get_args

ProgressShape = Literal["linear", "ease-in", "stalled-start", "jumps"]
# `mixed` gives each job one of the shapes above, drawn from the simulator's seed.
ProgressShapeSetting = ProgressShape | Literal["mixed"]

SHAPES: tuple[ProgressShape, ...] = get_args(ProgressShape)
# Stalled start: progress stays at 0 for this share of the running time, then runs linearly.
STALL_SHARE = 0.3
# Jumps: progress moves in steps of this many points, like a server that reports per stage.
JUMP_POINTS = 20


def shaped(shape: ProgressShape, done: float) -> float:
    """The fraction of the work reported after `done` (0..1) of the running time."""
    done = min(1.0, max(0.0, done))
    if shape == "ease-in":
        # Slow at first, fast at the end: a pace measured early predicts the end far too late.
        return done * done
    if shape == "stalled-start":
        return max(0.0, (done - STALL_SHARE) / (1 - STALL_SHARE))
    if shape == "jumps":
        step = JUMP_POINTS / 100
        return math.floor(done / step) * step
    return done
