"""Test-session setup: numba caches of edited kernel sources are dropped before any kernel runs
(``simulator.kernels.jitcache.refresh_all``; the kernel modules only register their dependencies at import)."""


def pytest_sessionstart(session):
    from simulator.kernels import jitcache, orderstat, profile, samplers  # noqa: F401  (they register)

    jitcache.refresh_all()
