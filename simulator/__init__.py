"""Monte Carlo engine of auction-sim (``docs/architecture.md``): numba kernels, seeding, chunking, estimators, CLI.

>>> from distributions import Market
>>> from simulator import simulate
>>> res = simulate(["spa"], Market.iid("uniform", 2), samples=200_000, seed=1)
>>> est, se = res.estimate("spa", "revenue")          # exact: E[second highest of 2 uniforms] = 1/3
>>> abs(est - 1 / 3) < 4 * se
True

Packages: ``core`` (``engine``: ``simulate`` over a ``distributions.Market``, chunks, batches, backends,
precision, Ctrl-C; ``accumulate``: streaming moments; ``result``: ``SimulationResult``; ``diagnostics``: heavy
tails), ``kernels`` (``rng``: seeding, xoshiro256+; ``compiled``: rules as arrays; ``profile``: profile mode;
``orderstat``: order-statistic mode, cost independent of n; ``samplers``: its binomial and order statistics),
``backends`` (dask, cuda), ``cli`` (the command line) and ``paper`` (reproduction, plots).
The package imports its numba kernels lazily, so ``auction-sim`` subcommands that do not simulate start fast.
"""
__all__ = ["simulate", "SimulationResult"]


def __getattr__(name):
    if name == "simulate":
        from .core.engine import simulate

        return simulate
    if name == "SimulationResult":
        from .core.result import SimulationResult

        return SimulationResult
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
