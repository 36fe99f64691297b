"""Throughput benchmarks (``shared/DESIGN.md`` "Performance budget"), reported as ratios within one run.

Section ``profile``: second-price, second-price with the monopoly reserve and the lottery run together (common
random numbers) on exponential(1) values by ``simulator.simulate`` in profile mode, against a vectorised numpy
implementation of the same three auctions (a samples x n matrix of values, the top two by ``np.partition``;
values by numpy's exponential sampler and, as the kernels do, by inverse transform), in buyer values per
second, with everything (seeding, merging, Python) included. The ratio is against the faster numpy variant.
Later issues add sections (order-statistic mode, cuda) to ``SECTIONS``.

    python scripts/bench.py                # n = 10, 1000, 100000
    python scripts/bench.py --quick        # a few seconds
    python scripts/bench.py --n 1000 --seconds 5 --json out.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mechanisms.rule import QuantileRule  # noqa: E402
from simulator import simulate  # noqa: E402

RATE = 1.0
RESERVE = 1.0 / RATE  # monopoly reserve of exponential(rate): 1/rate, quantile e^{-1}


def bench_rules():
    """The three auctions as QuantileRules (mechanisms/rule.py): spa, spa with reserve, the free lottery."""
    return [("spa", QuantileRule(m=1, r=1.0, reserve=0.0)),
            ("spa:reserve=monopoly", QuantileRule(m=1, r=math.exp(-RATE * RESERVE), reserve=RESERVE)),
            ("lottery", QuantileRule(m=1, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[1.0], pool_bid=[0.0],
                                     pool_next=[0.0]))]


def numpy_auctions(samples: int, n: int, seed: int = 0, block_values: int = 1 << 20,
                   inverse: bool = False) -> np.ndarray:
    """Mean revenue of spa, spa with reserve and lottery, and mean welfare of each, by numpy on a values matrix
    (blocks of about ``block_values`` values): the vectorised reference the kernels are measured against.
    Values by numpy's exponential sampler, or with ``inverse`` as v(U) = -log(U)/rate like the kernels."""
    gen = np.random.default_rng(seed)
    rows = max(1, block_values // n)
    sums = np.zeros(6)
    done = 0
    while done < samples:
        b = min(rows, samples - done)
        if inverse:
            v = -np.log1p(-gen.random(size=(b, n))) / RATE
        else:
            v = gen.exponential(1.0 / RATE, size=(b, n))
        if n >= 2:
            top2 = np.partition(v, n - 2, axis=1)[:, -2:]
            first, second = top2.max(axis=1), top2.min(axis=1)
        else:
            first, second = v[:, 0], np.zeros(b)
        sold_r = first >= RESERVE
        sums += [second.sum(), np.where(sold_r, np.maximum(second, RESERVE), 0.0).sum(), 0.0,
                 first.sum(), np.where(sold_r, first, 0.0).sum(), v[:, 0].sum()]  # lottery: buyer 0 wins
        done += b
    return sums / samples


def _timed(fn, min_seconds: float):
    """Run fn(scale) with growing scale until a run takes min_seconds; returns (scale, seconds)."""
    scale = 1
    while True:
        t0 = time.perf_counter()
        fn(scale)
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return scale, dt
        scale *= max(2, min(64, int(math.ceil(1.3 * min_seconds / max(dt, 1e-4)))))


def profile_section(ns, seconds: float) -> list[dict]:
    rules = bench_rules()
    simulate(rules, "exponential:rate=1", 10, samples=1000, seed=0, exact=False, benchmarks=False)  # compile
    rows = []
    for n in ns:
        base = max(1, (1 << 20) // n)
        s_sim, t_sim = _timed(lambda k: simulate(rules, "exponential:rate=1", n, samples=base * k, seed=1,
                                                  exact=False, benchmarks=False, progress=False), seconds)
        s_np, t_np = _timed(lambda k: numpy_auctions(base * k, n), seconds)
        s_inv, t_inv = _timed(lambda k: numpy_auctions(base * k, n, inverse=True), seconds)
        sim_rate = base * s_sim * n / t_sim
        np_rate = base * s_np * n / t_np
        inv_rate = base * s_inv * n / t_inv
        best = max(np_rate, inv_rate)
        rows.append({"section": "profile", "n": n, "simulator_values_per_s": sim_rate,
                     "numpy_values_per_s": np_rate, "numpy_inverse_values_per_s": inv_rate,
                     "ratio": sim_rate / best})
        print(f"profile  n={n:>7}  simulator {sim_rate:9.3e} values/s  numpy {np_rate:9.3e} "
              f"(inverse transform {inv_rate:9.3e}) values/s  ratio {sim_rate / best:6.1f}x", flush=True)
    return rows


#: name -> f(ns, seconds) -> rows; order-statistic and cuda sections come with their issues
SECTIONS = {"profile": profile_section}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs (about 0.3 s per measurement)")
    p.add_argument("--n", type=int, nargs="+", default=[10, 1000, 100000], help="market sizes")
    p.add_argument("--seconds", type=float, default=None, help="least time per measurement (default 2, quick 0.3)")
    p.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (0.3 if args.quick else 2.0)
    import numba

    print(f"numba {numba.__version__}, threads {numba.config.NUMBA_NUM_THREADS}, "
          f"threading layer {numba.threading_layer() if _parallel_ran() else '?'}", flush=True)
    rows = []
    for name in args.sections:
        rows += SECTIONS[name](args.n, seconds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


def _parallel_ran() -> bool:
    simulate(bench_rules(), "exponential:rate=1", 10, samples=1000, seed=0, exact=False, benchmarks=False)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
