"""Mechanisms flattened into plain arrays for the nopython kernels.

Every mechanism is a ``MixtureRule`` of ``QuantileRule`` components (``mechanisms/rule.py``; a plain rule is a
one-component mixture). ``compile_rules`` lays the components of all mechanisms of a run end to end, so one
kernel call runs them all on the same draws (common random numbers, ``shared/DESIGN.md`` "Statistics").

Cells: the pool boundaries of all components, merged and sorted (``cell_bounds``, strictly inside (0, 1)),
cut quantile space into cells (b_{i-1}, b_i], i = 0..L (b_{-1} = 0, b_L = 1); a quantile u lies in cell
``#{b < u}``. Every pool (lo, hi] is a run of whole cells, ``pool_cell_first..pool_cell_last``, so the kernel
counts buyers per cell once per draw and every pool of every mechanism reads its size off the cell counts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechanisms.rule import MixtureRule, QuantileRule, as_mixture


#: positions in ``CompiledRules.as_tuple()`` (the kernels index the tuple with these constants)
(COMP_M, COMP_R, COMP_RESERVE, COMP_POOL_START, COMP_PROB, MECH_COMP_START, POOL_LO, POOL_HI, POOL_BID, POOL_NEXT,
 POOL_CELL_FIRST, POOL_CELL_LAST, CELL_BOUNDS, SIZES, POOLED_TOP) = range(15)
#: positions in ``sizes``
UNITS, HAS_POOLS, N_MECH = range(3)


@dataclass(frozen=True)
class CompiledRules:
    """The arrays the kernels read (see module doc); ``as_tuple()`` is what is passed to numba."""

    comp_m: np.ndarray  # int64[J]    units of component j
    comp_r: np.ndarray  # float64[J]  abstain threshold r (quantile)
    comp_reserve: np.ndarray  # float64[J]  payment when at most m buyers bid (min B)
    comp_pool_start: np.ndarray  # int64[J+1] pools of component j: comp_pool_start[j] .. [j+1]-1
    comp_prob: np.ndarray  # float64[J]  ex-ante probability of component j within its mechanism
    mech_comp_start: np.ndarray  # int64[K+1] components of mechanism k
    pool_lo: np.ndarray  # float64[P]
    pool_hi: np.ndarray  # float64[P]
    pool_bid: np.ndarray  # float64[P]
    pool_next: np.ndarray  # float64[P]
    pool_cell_first: np.ndarray  # int64[P]
    pool_cell_last: np.ndarray  # int64[P]
    cell_bounds: np.ndarray  # float64[L]
    sizes: np.ndarray  # int64[3]: M (largest m), has_pools (0/1), K (mechanisms)
    pooled_top: float  # largest pool_hi (buyers above it are in no pool); 0 without pools

    @property
    def n_mechanisms(self) -> int:
        return int(self.sizes[2])

    @property
    def max_units(self) -> int:
        return int(self.sizes[0])

    def as_tuple(self) -> tuple:
        """The arrays in the order of the position constants above (``pooled_top`` as a 1-element array)."""
        return (self.comp_m, self.comp_r, self.comp_reserve, self.comp_pool_start, self.comp_prob,
                self.mech_comp_start, self.pool_lo, self.pool_hi, self.pool_bid, self.pool_next,
                self.pool_cell_first, self.pool_cell_last, self.cell_bounds, self.sizes,
                np.array([self.pooled_top]))


def compile_rules(rules: list[QuantileRule | MixtureRule]) -> CompiledRules:
    """Flatten the rules of K mechanisms (each a QuantileRule or MixtureRule) for the kernels."""
    if not rules:
        raise ValueError("mechanisms: need at least one mechanism")
    comps: list[QuantileRule] = []
    probs: list[float] = []
    mech_start = [0]
    for rule in rules:
        if not isinstance(rule, (QuantileRule, MixtureRule)):
            raise TypeError(f"rule: expected a QuantileRule or MixtureRule, got {type(rule).__name__}")
        mix = as_mixture(rule)
        comps.extend(mix.rules)
        probs.extend(float(p) for p in mix.probs)
        mech_start.append(len(comps))
    pool_start = np.cumsum([0] + [len(c.pool_lo) for c in comps]).astype(np.int64)
    cat = lambda name: np.ascontiguousarray(  # noqa: E731
        np.concatenate([getattr(c, name) for c in comps]) if comps else np.zeros(0), dtype=np.float64)
    pool_lo, pool_hi, pool_bid, pool_next = (cat(f) for f in ("pool_lo", "pool_hi", "pool_bid", "pool_next"))
    edges = np.concatenate([pool_lo, pool_hi])
    bounds = np.unique(edges[(edges > 0.0) & (edges < 1.0)])
    cell_first = np.searchsorted(bounds, pool_lo, side="right").astype(np.int64)  # #{b <= lo}
    cell_last = np.searchsorted(bounds, pool_hi, side="left").astype(np.int64)  # #{b < hi}
    m_max = max(c.m for c in comps)
    return CompiledRules(
        comp_m=np.array([c.m for c in comps], dtype=np.int64),
        comp_r=np.array([c.r for c in comps], dtype=np.float64),
        comp_reserve=np.array([c.reserve for c in comps], dtype=np.float64),
        comp_pool_start=pool_start,
        comp_prob=np.array(probs, dtype=np.float64),
        mech_comp_start=np.array(mech_start, dtype=np.int64),
        pool_lo=pool_lo, pool_hi=pool_hi, pool_bid=pool_bid, pool_next=pool_next,
        pool_cell_first=cell_first, pool_cell_last=cell_last,
        cell_bounds=np.ascontiguousarray(bounds, dtype=np.float64),
        sizes=np.array([m_max, int(len(pool_lo) > 0), len(rules)], dtype=np.int64),
        pooled_top=float(pool_hi.max()) if len(pool_hi) else 0.0,
    )
