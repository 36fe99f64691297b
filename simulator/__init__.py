"""Monte Carlo engine of auction-sim (``shared/DESIGN.md``): numba kernels, seeding, chunking, estimators, CLI.

>>> from simulator import simulate
>>> from mechanisms.rule import QuantileRule
>>> res = simulate([("spa", QuantileRule(m=1, r=1.0, reserve=0.0))], "uniform", 2, samples=200_000, seed=1)
>>> est, se = res.estimate("spa", "revenue")          # exact: E[second highest of 2 uniforms] = 1/3
>>> abs(est - 1 / 3) < 4 * se
True

Modules: ``rng`` (seeding, xoshiro256+), ``compiled`` (rules as arrays), ``kernels_profile`` (profile mode),
``kernels_orderstat`` (order-statistic mode: cost independent of n) and ``samplers`` (its binomial and order
statistics on the xoshiro streams), ``accumulate`` (streaming moments), ``engine`` (``simulate``: chunks,
batches, backends, precision, Ctrl-C), ``result`` (``SimulationResult``), ``diagnostics`` (heavy tails), ``cli`` / ``cmd_*`` (the command line).
The package imports its numba kernels lazily, so ``auction-sim`` subcommands that do not simulate start fast.
"""
__all__ = ["simulate", "SimulationResult"]


def __getattr__(name):
    if name == "simulate":
        from .engine import simulate

        return simulate
    if name == "SimulationResult":
        from .result import SimulationResult

        return SimulationResult
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
