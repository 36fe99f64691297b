"""Bid-based auction formats with equilibrium bidding (first-price, all-pay, third-price).

``formats`` (the symmetric formats: bid functions, ex-post rules on bids, exact values), ``equilibrium`` (the
bid functions in quantile space), ``bne_check`` (the epsilon-BNE check's payoffs and deviations); the
asymmetric first-price equilibrium is ``asymmetric``; ``spec`` parses the main command line's fpa, fpa:reserve=R,
allpay, third-price. The names below load their module on first use, so
importing the package stays light.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"FirstPrice": "formats", "AllPay": "formats", "ThirdPrice": "formats", "BidFormat": "formats",
            "FORMATS": "formats", "make_format": "formats"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
