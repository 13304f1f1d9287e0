"""The percentile every benchmark here reports."""

from __future__ import annotations

import math


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
