"""The concave-hull scan of ironing (``ironing.upper_hull``) in numba: kept apart so that importing
``mechanisms`` loads no numba until a hull is computed."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def upper_hull_indices(x, y):
    """Monotone chain over points sorted by increasing x: the indices of the upper concave hull."""
    hull = np.empty(len(x), dtype=np.int64)
    k = 0
    for i in range(len(x)):
        while k >= 2:
            a, b = hull[k - 2], hull[k - 1]
            # pop b unless it lies strictly above the chord a-i (slopes, not cross products: at q ~ 1e-300 the
            # products underflow)
            if (y[b] - y[a]) / (x[b] - x[a]) <= (y[i] - y[a]) / (x[i] - x[a]):
                k -= 1
            else:
                break
        hull[k] = i
        k += 1
    return hull[:k].copy()
