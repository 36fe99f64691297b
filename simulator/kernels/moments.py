"""Co-moments of per-draw metrics for ``simulator.core.draws`` (serial numba loops, no BLAS threads).

For the generic Monte Carlo driver the paired differences that matter are between mechanisms on the same metric
(revenue of a vs revenue of b), so only those co-moments are computed: C[i, j] = sum_b d[b, i] d[b, j] for the
pairs (i, j) listed, d the centred chunk. A plain serial loop: BLAS's own threads, spinning on this 2-core machine
next to other work, made a 35-column product of 65536 draws take 1.5 s instead of 30 ms.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def pair_comoments(d, first, second):
    """sum over draws of d[:, first[p]] * d[:, second[p]], one value per listed pair p."""
    out = np.zeros(first.shape[0])
    for b in range(d.shape[0]):
        for p in range(first.shape[0]):
            out[p] += d[b, first[p]] * d[b, second[p]]
    return out
