"""The kinds of value function the numba kernels know (``kernels.v_of_q``) and their parameter arrays.

Numba-free, so that describing a distribution (``Distribution.numba_spec``) costs no numba import: numba is
loaded only when a kernel runs (``docs/architecture.md``, "Layout and data flow").
"""
from __future__ import annotations

import numpy as np

UNIFORM, EXPONENTIAL, LOMAX, PARETO, EQUAL_REVENUE, WEIBULL, EXAMPLE42, LOGNORMAL, TRUNCNORM, TABLE, \
    DISCRETE = range(11)


def pack(kind: int, *params: float) -> tuple[int, np.ndarray]:
    return kind, np.ascontiguousarray(np.array(params, dtype=np.float64))
