"""The compiled side: random streams (``rng``), samplers (``samplers``), rules as arrays (``compiled``), the
profile-mode and order-statistic kernels (``profile``, ``orderstat``) and numba's cache bookkeeping
(``jitcache``). Imported only when a simulation runs (numba is slow to import)."""
