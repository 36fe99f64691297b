"""The AGV ("expected externality") mechanism and Proposition 5.6 for bilateral trade (textbook ``004`` §5.3.2).

With the buyer's value x_b = v and the seller's x_s = -c, W(x) = (v - c)·1{v >= c}, W_{-b} = -c·1{v >= c} and
W_{-s} = v·1{v >= c}. For N = 2, (5.23) reads M_b^A = E_V[W_{-s}(V, c)] - E_C[W_{-b}(v, C)] = -M_s^A, so on every
draw, traded or not, the buyer pays the seller

    P(v, c) = A(c) + B(v),   A(c) = E[V; V >= c],   B(v) = E[C; C <= v].

Budget balanced ex post (the seller receives exactly P), efficient, Bayesian IC; its interim utilities are

    U_b^A(v) = E[(v - C)^+] - K,   K = E[V·1{V >= C}],
    U_s^A(c) = E[(V - c)^+] + L,   L = E[C·1{C <= V}],

so every seller type is IR and the buyer bears the shortfall: the worst-off type is the lowest buyer value v̲,
short by K - E[(v̲ - C)^+] (1/3 for two uniform traders on [0, 1]); buyer types below v* (E[(v* - C)^+] = K) are
not IR.

Proposition 5.6 shifts the constants: d_i = c_i^A - c_i^V = U_i^V - U_i^A for every agent but one (the
"absorber", agent 1), who takes d_1 = -sum of the others. Every agent but the absorber then gets her VCG interim
utility U_i^V >= 0, and the absorber U_1^V - E[VCG deficit]: IR for all iff VCG runs an expected surplus. In
bilateral trade VCG always runs a deficit (Proposition 5.7), so the absorber's worst type is short by exactly
the VCG deficit, whichever side absorbs (``prop56``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from distributions.errors import InputError

from .outcome import TradeExact, TradeMechanism, Traders, outcome_arrays, over_cost

#: who absorbs the constants in Proposition 5.6 (agent 1 of the proof); "none": plain AGV (5.23)
ABSORBERS = ("none", "buyer", "seller")


@dataclass(frozen=True)
class AGVConstants:
    """The constants of AGV and of Proposition 5.6 for one market.

    K = E[V 1{V >= C}], L = E[C 1{C <= V}] (so K - L = first-best gains), low = E[(v̲ - C)^+] (the VCG utility
    of the buyer's lowest type is 0: U_b^V(v) = E[(v - C)^+] - low), high = E[(V - c̄)^+] (U_s^V(c) =
    E[(V - c)^+] - high), d_b = U_b^V - U_b^A = K - low, d_s = U_s^V - U_s^A = -high - L, and
    vcg_deficit = d_b + d_s = K - L - low - high."""

    K: float
    L: float
    low: float
    high: float

    @property
    def d_b(self) -> float:
        return self.K - self.low

    @property
    def d_s(self) -> float:
        return -self.high - self.L

    @property
    def vcg_deficit(self) -> float:
        """E[VCG deficit] = sum_i (c_i^A - c_i^V) (proof of Proposition 5.6, (5.24))."""
        return self.d_b + self.d_s

    def shift(self, absorb: str) -> float:
        """What is added to the AGV transfer P(v, c) under Proposition 5.6 with ``absorb`` as agent 1: the
        seller absorbs -> the buyer pays P - d_b; the buyer absorbs -> P + d_s; none -> P."""
        return {"none": 0.0, "seller": -self.d_b, "buyer": self.d_s}[absorb]


def agv_constants(market) -> AGVConstants:
    """K, L, E[(v̲ - C)^+], E[(V - c̄)^+] by one quadrature over the seller's cost."""
    tr = Traders.of(market)
    atoms = [x for x, _ in tr.F.atoms]

    def per_cost(c):
        q = tr.Q(c)
        return np.array([tr.A(c), c * q])
    K, L = over_cost(tr, per_cost, atoms, what="agv constants")
    v_lo, c_hi = tr.v_lo, tr.c_hi
    low = float(v_lo * tr.Gc(v_lo) - tr.B(v_lo))
    high = 0.0 if math.isinf(c_hi) else float(tr.A(c_hi) - c_hi * tr.Q(c_hi))
    return AGVConstants(float(K), float(L), max(low, 0.0), max(high, 0.0))


class AGV(TradeMechanism):
    """AGV (5.23), or with ``absorb`` = "buyer" / "seller" the budget-balanced mechanism of Proposition 5.6's
    proof with that side as agent 1. Efficient, ex-post budget balanced, Bayesian IC; IR fails (see ``interim``)."""

    def __init__(self, absorb: str = "none"):
        if absorb not in ABSORBERS:
            raise InputError("absorb", f"expected one of {', '.join(ABSORBERS)}, got {absorb!r}")
        self.absorb = absorb
        self.name = "agv" if absorb == "none" else f"agv:absorb={absorb}"
        self._constants: dict = {}  # market (a value) -> AGVConstants

    def constants(self, market) -> AGVConstants:
        """``agv_constants(market)``, computed once per market."""
        if market not in self._constants:
            self._constants[market] = agv_constants(market)
        return self._constants[market]

    def exact(self, market) -> TradeExact:
        """Efficient trade (the gains of VCG) and E[P] = K + L + shift for both the buyer and the seller."""
        tr = Traders.of(market)
        k = self.constants(market)
        atoms = [x for x, _ in tr.F.atoms]

        def per_cost(c):
            q = tr.Q(c)
            return np.array([q, tr.A(c), c * q])
        trade, value, cost = over_cost(tr, per_cost, atoms, what="agv")
        pays = k.K + k.L + k.shift(self.absorb)
        return TradeExact.from_sums(trade, value, cost, pays, pays)

    def transfer(self, market, v, c):
        """P(v, c) = A(c) + B(v) (+ the Proposition 5.6 shift): paid by the buyer to the seller on every draw."""
        tr = Traders.of(market)
        return tr.A(c) + tr.B(v) + self.constants(market).shift(self.absorb)

    def outcome(self, market, v, c):
        pays = self.transfer(market, v, c)
        return outcome_arrays(v, c, v >= c, pays, pays)  # the seller receives exactly what the buyer pays

    def interim(self, market, v=None, c=None) -> dict:
        """Interim utilities U_b(v) = E[(v - C)^+] - K - shift and U_s(c) = E[(V - c)^+] + L + shift (arrays, for
        the given types), and the worst-off types: the buyer's lowest value v̲, the seller's highest cost c̄, each
        with its interim utility and shortfall max(0, -U); ``buyer_ir_from`` / ``seller_ir_to``: the types that
        are IR (v >= v*, c <= c*; None when all are, or none)."""
        tr = Traders.of(market)
        k = self.constants(market)
        shift = k.shift(self.absorb)

        def u_b(x):
            x = np.asarray(x, dtype=float)
            return x * tr.Gc(x) - tr.B(x) - k.K - shift

        def u_s(x):
            x = np.asarray(x, dtype=float)
            return np.where(np.isinf(x), 0.0, tr.A(x) - np.where(np.isinf(x), 0.0, x) * tr.Q(x)) + k.L + shift
        worst_b, worst_s = float(u_b(tr.v_lo)), float(u_s(tr.c_hi))
        out = {"K": k.K, "L": k.L, "vcg_deficit": k.vcg_deficit, "shift": shift,
               "buyer_worst_type": tr.v_lo, "buyer_worst_utility": worst_b, "buyer_shortfall": max(0.0, -worst_b),
               "seller_worst_type": tr.c_hi, "seller_worst_utility": worst_s,
               "seller_shortfall": max(0.0, -worst_s),
               "buyer_ir_from": _crossing(u_b, tr.v_lo, float(tr.F.v(1e-15)), worst_b),
               "seller_ir_to": _crossing(u_s, min(tr.c_hi, float(tr.G.v(1e-15))), tr.c_lo, worst_s)}
        if v is not None:
            out["buyer_utility"] = u_b(v)
        if c is not None:
            out["seller_utility"] = u_s(c)
        return out


def _crossing(u, worst: float, other: float, u_worst: float):
    """The type between the worst-off type ``worst`` (interim utility ``u_worst``) and the far end ``other`` of
    the drawable types where the monotone interim utility u crosses 0; None if u(worst) >= 0 or u(other) < 0."""
    if u_worst >= 0 or float(u(other)) < 0:
        return None
    return float(optimize.brentq(lambda x: float(u(x)), min(worst, other), max(worst, other), xtol=1e-14,
                                 rtol=1e-13))


def prop56(market) -> dict:
    """Proposition 5.6 for this market: VCG's expected surplus (-deficit), whether an efficient, IC, IR,
    budget-balanced mechanism exists (iff that surplus is >= 0), and for each choice of agent 1 the worst-off
    type of the absorber and its interim utility in the constructed mechanism (= -VCG deficit when it fails)."""
    k = agv_constants(market)
    out = {"vcg_surplus": -k.vcg_deficit, "exists": -k.vcg_deficit >= 0, "d_b": k.d_b, "d_s": k.d_s}
    for absorb, other in (("buyer", "seller"), ("seller", "buyer")):
        info = AGV(absorb).interim(market)
        out[f"absorb_{absorb}_worst_utility"] = info[f"{absorb}_worst_utility"]
        out[f"absorb_{absorb}_other_worst_utility"] = info[f"{other}_worst_utility"]
    return out
