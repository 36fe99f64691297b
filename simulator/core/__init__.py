"""The estimation core: the run loop over chunks (``engine``), streaming moments (``accumulate``), results and
their confidence intervals (``result``), heavy-tail diagnostics (``diagnostics``), output helpers
(``output``). It uses ``simulator.kernels`` and never imports the command line or the paper layer."""
