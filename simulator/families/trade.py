"""Monte Carlo for bilateral trade (issue 16): draws v ~ F, c ~ G as v_F(U), v_G(U') of uniforms, every
mechanism's vectorised ex-post outcome on the same draws (``mechanisms.trade``), and the generic chunked driver
``simulator.core.draws.simulate_draws`` (same seed, same numbers; Ctrl-C keeps the finished chunks).

Per mechanism and draw: trade (0/1), buyer_pays, seller_receives, buyer_utility, seller_utility, gains, budget
(= buyer_pays - seller_receives). The result's ``minimum`` / ``maximum`` over every draw answer "budget
balanced on every draw" (AGV: max |budget| = 0) and "IR on every draw" (min utility >= 0). A randomised
mechanism (``randomized``: the second best where its budget jumps, the KS / Nash lotteries) gets one more
uniform per draw, its coin, drawn after (v, c).
"""
from __future__ import annotations

import numpy as np

from distributions.errors import InputError

from ..core.draws import simulate_draws


def draw_traders(market, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(v, c): ``size`` buyer values v_F(U) and seller costs v_G(U') (U = 0 replaced by the smallest double)."""
    from mechanisms.trade.outcome import Traders

    tr = Traders.of(market)
    u = rng.random((2, size))
    u = np.where(u == 0.0, np.finfo(float).tiny, u)
    return np.asarray(tr.F.v(u[0]), dtype=float), np.asarray(tr.G.v(u[1]), dtype=float)


def trade_outcome(mechanisms, market):
    """``outcome(rng, size)`` for ``simulate_draws``: {mechanism name: {metric: per-draw array}}."""
    names = [m.name for m in mechanisms]
    if len(set(names)) != len(names):
        raise InputError("mechanism", f"each mechanism may be given once, got {names}")

    coins = any(getattr(m, "randomized", False) for m in mechanisms)

    def outcome(rng, size):
        v, c = draw_traders(market, rng, size)
        coin = rng.random(size) if coins else None  # after (v, c): the same traders with or without a lottery
        return {m.name: m.outcome(market, v, c, coin) if getattr(m, "randomized", False) else m.outcome(market, v, c)
                for m in mechanisms}
    return outcome


def simulate_trade(mechanisms, market, *, samples: int, seed: int = 0, confidence: float = 0.95,
                   chunk: int = 1 << 16, progress: bool = False, exact: bool = True):
    """Simulate ``mechanisms`` (``TradeMechanism`` objects) in ``Market.trade(F, G)``; with ``exact`` every row
    carries the mechanism's exact ex-ante value (``TradeMechanism.exact``) and its z."""
    outcome = trade_outcome(mechanisms, market)
    values = {m.name: m.exact(market).as_dict() for m in mechanisms} if exact else None
    title = f"bilateral trade: buyer {market.dist.spec}, seller {market.seller.spec}"
    return simulate_draws(outcome, samples=samples, seed=seed, exact=values, confidence=confidence, chunk=chunk,
                          progress=progress, title=title)
