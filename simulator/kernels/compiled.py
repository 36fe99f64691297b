"""Mechanisms flattened into named arrays for the nopython and CUDA kernels (``CompiledRules``).

Every mechanism is a ``MixtureRule`` of ``QuantileRule`` components (``mechanisms/rule.py``; a plain rule is a
one-component mixture). ``compile_rules`` lays the components of all mechanisms of a run end to end, so one
kernel call runs them all on the same draws (common random numbers, ``docs/architecture.md`` "Statistics").

Cells: the pool boundaries of all components, merged and sorted (``cell_bounds``, strictly inside (0, 1)),
cut quantile space into cells (b_{i-1}, b_i], i = 0..L (b_{-1} = 0, b_L = 1); a quantile u lies in cell
``#{b < u}``. Every pool (lo, hi] is a run of whole cells, ``pool_cell_first..pool_cell_last``, so the kernel
counts buyers per cell once per draw and every pool of every mechanism reads its size off the cell counts.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mechanisms.rule import MixtureRule, QuantileRule, as_mixture
from distributions.errors import InputError, InputTypeError


class CompiledRules(NamedTuple):
    """The rules of a run as the kernels read them: a named tuple of arrays and sizes, passed to the nopython
    and CUDA kernels as it is (numba types it as a heterogeneous ``NamedTuple``; a field read compiles to the
    same code as a positional one). Components j = 0..J-1 are the mixture components of all mechanisms laid
    end to end (a QuantileRule is one component of probability 1); pools p = 0..P-1 those of all components;
    cells i = 0..L the merged pool partition (module doc)."""

    m: np.ndarray  # int64[J]          units m of component j
    r: np.ndarray  # float64[J]        abstain threshold r (quantile): buyers above it do not bid
    reserve: np.ndarray  # float64[J]  payment when at most m buyers bid (min B)
    component_prob: np.ndarray  # float64[J]  ex-ante probability of component j within its mechanism
    pool_start: np.ndarray  # int64[J+1]  pools of component j: pool_start[j] .. pool_start[j+1]-1
    component_start: np.ndarray  # int64[K+1]  components of mechanism k
    pool_lo: np.ndarray  # float64[P]  pool p is the quantile interval (pool_lo, pool_hi]
    pool_hi: np.ndarray  # float64[P]
    pool_bid: np.ndarray  # float64[P]  the bid of every member of pool p
    pool_next: np.ndarray  # float64[P]  the next bid above the pool (inf for a pool at the top)
    pool_cell_first: np.ndarray  # int64[P]  pool p is the run of cells pool_cell_first[p] .. pool_cell_last[p]
    pool_cell_last: np.ndarray  # int64[P]
    cell_bounds: np.ndarray  # float64[L]  pool boundaries strictly inside (0, 1), sorted
    max_units: int  # M = the largest m (the kernels keep the M + 1 smallest quantiles)
    has_pools: bool  # whether any component has a pool
    n_mechanisms: int  # K
    pooled_top: float  # largest pool_hi (buyers above it are in no pool); 0 without pools


def rule_key(rule: QuantileRule | MixtureRule) -> tuple:
    """A rule as a hashable value: equal keys mean the same rule to the bit (its numbers' float64 bytes), hence
    the same outcome on every draw."""
    mix = as_mixture(rule)
    return (np.asarray(mix.probs, dtype=np.float64).tobytes(),) + tuple(
        (int(c.m), float(c.r), float(c.reserve)) + tuple(np.asarray(getattr(c, f), dtype=np.float64).tobytes()
                                                         for f in ("pool_lo", "pool_hi", "pool_bid", "pool_next"))
        for c in mix.rules)


def distinct_rules(rules: list) -> tuple[list, np.ndarray]:
    """(the distinct rules in order of first appearance, index) with rules[k] == distinct[index[k]]. Mechanisms
    that are the same rule (at n = 10 with exponential values: the Nash and cross-side Nash solutions and
    second price; Myerson and second price with the monopoly reserve) have the same metrics on every draw, so
    a kernel runs each distinct rule once and its columns are copied: the same numbers to the bit."""
    first: dict[tuple, int] = {}
    distinct, index = [], []
    for rule in rules:
        key = rule_key(rule) if isinstance(rule, (QuantileRule, MixtureRule)) else ("object", len(first), len(index))
        if key not in first:
            first[key] = len(distinct)
            distinct.append(rule)
        index.append(first[key])
    return distinct, np.array(index, dtype=np.int64)


def compile_rules(rules: list[QuantileRule | MixtureRule]) -> CompiledRules:
    """Flatten the rules of K mechanisms (each a QuantileRule or MixtureRule) for the kernels."""
    if not rules:
        raise InputError("mechanisms", "need at least one mechanism")
    comps: list[QuantileRule] = []
    probs: list[float] = []
    mech_start = [0]
    for rule in rules:
        if not isinstance(rule, (QuantileRule, MixtureRule)):
            raise InputTypeError("rule", f"expected a QuantileRule or MixtureRule, got {type(rule).__name__}")
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
        m=np.array([c.m for c in comps], dtype=np.int64),
        r=np.array([c.r for c in comps], dtype=np.float64),
        reserve=np.array([c.reserve for c in comps], dtype=np.float64),
        component_prob=np.array(probs, dtype=np.float64),
        pool_start=pool_start,
        component_start=np.array(mech_start, dtype=np.int64),
        pool_lo=pool_lo, pool_hi=pool_hi, pool_bid=pool_bid, pool_next=pool_next,
        pool_cell_first=cell_first, pool_cell_last=cell_last,
        cell_bounds=np.ascontiguousarray(bounds, dtype=np.float64),
        max_units=int(m_max),
        has_pools=bool(len(pool_lo) > 0),
        n_mechanisms=len(rules),
        pooled_top=float(pool_hi.max()) if len(pool_hi) else 0.0,
    )
