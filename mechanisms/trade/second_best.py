"""Weighted virtual-value trade rules and the Myerson–Satterthwaite second best (textbook ``004`` §5.3.3,
Proposition 5.7; Myerson and Satterthwaite, 1983).

By the payment identity (revenue equivalence, §5.1), an IC mechanism with trade rule x(v, c) in which the buyer's
lowest type v̲ and the seller's highest type c̄ get 0 has expected buyer payment E[ψ(V) x] and expected seller
receipt E[γ(C) x], with the virtual value ψ(v) = v - (1 - F(v))/f(v) and the virtual cost
γ(c) = c + G(c)/g(c). So its expected budget is E[(ψ(V) - γ(C)) x(V, C)], and maximising the gains
E[(V - C) x] subject to budget >= 0 (IR, IC, budget balance) gives, with a multiplier λ and a = λ/(1 + λ),

    trade iff  φ_a(v) = v - a (1 - F(v))/f(v)  >=  γ_a(c) = c + a G(c)/g(c),

a in [0, 1] chosen so that the expected budget is exactly 0 (a = 0 is first best, which runs a deficit).
Two uniform traders on [0, 1]: (1 + a)(v - c) >= a, budget 0 at a = 1/3, so trade iff v - c >= 1/4, with
gains 9/64 (the first best has 1/6).

``TradeRule`` takes the two weights separately (a_buyer on the buyer's information rent, a_seller on the
seller's): (1, 0) is the seller-offer rule (ψ(v) >= c), (0, 1) the buyer-offer rule (v >= γ(c)), (0, 0) first best.
Its payments are the dominant-strategy thresholds: the buyer pays θ(c) = min{v : φ(v) >= γ(c)}, the seller
receives κ(v) = max{c : γ(c) <= φ(v)}; they are IC and ex-post IR, and their expected values are those of the
payment identity. The budget is balanced in expectation (ex ante), not on every draw.

Any F, G (atoms, gaps, non-regular densities): where a weighted virtual value is not monotone it is ironed
(``virtual``: the slope of the concave / convex hull of its curve in quantile space, Myerson 1981), the rule
trades iff φ̄_a(v) >= γ̄_a(c) and is constant on each ironed interval (ties trade), so the interim allocations
stay monotone, the thresholds θ, κ are still the dominant-strategy payments and, the rule being constant where
the hull leaves the curve, E[θ(C) x] = E[ψ x] = E[ψ̄ x] (Myerson's Lemma). The ironed intervals are found on a
grid (``frontier.GRID`` nodes) and refined locally: the reported values are exact for the rule used, which is
optimal to ~1e-12 (the square of the intervals' ~1e-8 error in q, ~1e-6 relative on the tail's log grid).
Roots are found in quantile space, q = Pr[V >= v] for the buyer (v = v_F(q), 1 - F(v) = q) and s = Pr[C >= c]
for the seller (c = v_G(s), G(c) = 1 - s), which keeps the upper tails exact; within ``TAIL`` of q = 1 or s = 1
(the lowest values and costs, which q and s cannot resolve: 1 - 1e-20 rounds to 1) they are found in value
space. ``boundary`` does it vectorised: the root's cell on a fixed grid, then Illinois regula falsi with
Dekker's 2-ulp steps and a bisection every third step (about 10 steps, where bisection takes 62).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from distributions.errors import InputError

from .outcome import TradeExact, TradeMechanism, Traders, mix_exact, outcome_arrays, over_cost, over_value
from .virtual import (buyer_virtual_q, buyer_virtual_v, seller_virtual_c, seller_virtual_s,  # noqa: F401
                      weighted_virtual)

#: the quantiles that bracket each root before the refinement (log-spaced tail, linear bulk)
BRACKET = np.unique(np.concatenate([np.geomspace(1e-18, 1.0, 161), np.linspace(0.0, 1.0, 257)]))
#: below this quantile distance from 1 (the lowest values and costs) roots are found in value space
TAIL = 1e-3
#: refinement steps at most (Illinois regula falsi, every third step a bisection; ~8 are used when smooth)
STEPS = 90


def boundary(f, target, strict: bool = False):
    """For f non-increasing on [0, 1] and each target t: (lo, hi, none, every), where x "passes" if f(x) >= t
    (f(x) > t if ``strict``): lo is the largest x found that passes, hi the smallest that fails, hi - lo within
    4 ulp; ``none``: x = 0 fails (lo = hi = 0), ``every``: x = 1 passes (lo = hi = 1). Bracketed on ``BRACKET``
    (the root's cell, checked), then refined by the Illinois method with a bisection every third step."""
    t = np.atleast_1d(np.asarray(target, dtype=float))

    def passes(y, tt):
        return (y > tt) if strict else (y >= tt)
    fg = np.asarray(f(BRACKET), dtype=float)
    env = np.minimum.accumulate(np.where(np.isnan(fg), -np.inf, fg))
    count = np.searchsorted(-env, -t, side="left" if strict else "right")
    none, every = count == 0, count == len(BRACKET)
    inner = ~(none | every)
    lo = np.where(inner, BRACKET[np.clip(count - 1, 0, len(BRACKET) - 1)], np.where(every, 1.0, 0.0))
    hi = np.where(inner, BRACKET[np.clip(count, 0, len(BRACKET) - 1)], lo)
    idx = np.nonzero(inner)[0]
    f_lo, f_hi = np.asarray(f(lo[idx]), float) - t[idx], np.asarray(f(hi[idx]), float) - t[idx]
    bad = ~passes(f_lo, 0.0) | passes(f_hi, 0.0)  # rounding noise defeated the envelope: the whole interval
    lo[idx[bad]], hi[idx[bad]] = 0.0, 1.0
    f_lo[bad], f_hi[bad] = np.inf, -np.inf
    side = np.zeros(len(idx), dtype=np.int8)  # which end moved last: +1 lo, -1 hi
    for step in range(STEPS):
        # done: a bracket within 4 ulp, or an end where f = t exactly (f is flat in rounding there)
        exact = (f_hi == 0) if strict else (f_lo == 0)
        wide = hi[idx] - lo[idx] > 4 * np.finfo(float).eps * np.maximum(hi[idx], 1e-300)
        active = np.nonzero(wide & ~exact)[0]
        if len(active) == 0:
            break
        j = idx[active]
        a, b, fa, fb = lo[j], hi[j], f_lo[active], f_hi[active]
        with np.errstate(all="ignore"):
            x = a + fa * (b - a) / (fa - fb)
        x = np.where(np.isfinite(x) & (step % 3 != 2), x, 0.5 * (a + b))
        # at least 2 ulp inside each end (Dekker's "tol step"): a guess next to the root closes the bracket
        tol = 2 * np.finfo(float).eps * np.maximum(b, 1e-300)
        x = np.where(b - a > 2 * tol, np.clip(x, a + tol, b - tol), 0.5 * (a + b))
        fx = np.asarray(f(x), dtype=float) - t[j]
        up = passes(fx, 0.0)
        lo[j], hi[j] = np.where(up, x, a), np.where(up, b, x)
        # Illinois: when the same end moves twice in a row, halve the value kept at the other end
        f_lo[active] = np.where(up, fx, np.where(side[active] == -1, 0.5 * fa, fa))
        f_hi[active] = np.where(up, np.where(side[active] == 1, 0.5 * fb, fb), fx)
        side[active] = np.where(up, 1, -1)
    shape = np.shape(target)
    return lo.reshape(shape), hi.reshape(shape), none.reshape(shape), every.reshape(shape)


class TradeRule:
    """Trade iff φ̄(v) >= γ̄(c): v - a_buyer (1 - F(v))/f(v) >= c + a_seller G(c)/g(c), ironed where a side is
    not regular (``virtual.weighted_virtual``), with threshold payments (module doc)."""

    def __init__(self, market, a_buyer: float, a_seller: float):
        self.traders = tr = Traders.of(market)
        for name, a in (("a_buyer", a_buyer), ("a_seller", a_seller)):
            if isinstance(a, bool) or not isinstance(a, (int, float)) or not (np.isfinite(a) and a >= 0):
                raise InputError(name, f"expected a finite weight >= 0, got {a!r}")
        self.a_buyer, self.a_seller = float(a_buyer), float(a_seller)
        self.buyer = weighted_virtual(tr.F, "buyer", self.a_buyer)
        self.seller = weighted_virtual(tr.G, "seller", self.a_seller)

    @property
    def ironed(self) -> bool:
        """True when either side's weighted virtual value is ironed (not regular for its weight)."""
        return not (self.buyer.regular and self.seller.regular)

    def buyer_virtual(self, v):
        """φ̄(v): v - a_buyer (1 - F(v))/f(v) at the values v themselves, ironed where needed."""
        return self.buyer.at_value(v)

    def seller_virtual(self, c):
        """γ̄(c): c + a_seller G(c)/g(c), ironed where needed."""
        return self.seller.at_value(c)

    def threshold(self, c):
        """θ(c) = min{v : φ̄(v) >= γ̄(c)}: v̲ if every buyer trades, inf if none (``value_at``)."""
        return self.value_at(np.asarray(self.seller_virtual(c), dtype=float))

    def value_at(self, t):
        """min{v : φ̄(v) >= t} for targets t. The root is found in the buyer's quantile q, and in value space
        where q > 1 - ``TAIL`` (the low values that q cannot resolve)."""
        F, tr, phi = self.traders.F, self.traders, self.buyer
        t = np.asarray(t, dtype=float)
        lo, _, none, every = boundary(phi.at_quantile, t)
        theta = np.where(none, np.inf, np.asarray(F.v(np.where(every, 1.0, lo)), dtype=float))
        low = ~none & (every | (lo > 1.0 - TAIL))
        if np.any(low):
            top = float(F.v(1.0 - TAIL))

            def value(y):  # y in [0, 1] -> v from the top of the low tail down to v̲
                return top - y * (top - tr.v_lo)
            y, _, y_none, y_every = boundary(lambda y: phi.at_value(value(y)), t[low])
            theta[low] = np.where(y_none, top, value(np.where(y_every, 1.0, y)))
        return theta

    def critical_cost(self, v):
        """κ(v) = max{c : γ̄(c) <= φ̄(v)}: c̄ if every seller trades, -inf if none (``cost_at``)."""
        return self.cost_at(np.asarray(self.buyer_virtual(v), dtype=float))

    def cost_at(self, t):
        """max{c : γ̄(c) <= t} for targets t. The root is found in the seller's s, and in cost space where
        s > 1 - ``TAIL`` (the low costs that s cannot resolve)."""
        G, tr, gamma = self.traders.G, self.traders, self.seller
        t = np.asarray(t, dtype=float)
        _, hi, none, every = boundary(gamma.at_quantile, t, strict=True)
        kappa = np.where(every, -np.inf, np.asarray(G.v(np.where(none, 0.0, hi)), dtype=float))
        low = ~every & ~none & (hi > 1.0 - TAIL)
        if np.any(low):
            top = float(G.v(1.0 - TAIL))

            def cost(y):  # y in [0, 1] -> c from the top of the low tail down to c̲
                return top - y * (top - tr.c_lo)
            _, y, y_none, y_every = boundary(lambda y: gamma.at_value(cost(y)), t[low], strict=True)
            kappa[low] = np.where(y_every, tr.c_lo, cost(np.where(y_none, 0.0, y)))
        return kappa

    def jumps(self) -> tuple[list[float], list[float]]:
        """(costs, values) where θ(c) and κ(v) jump: γ̄(c) or φ̄(v) meets an ironed level of the other side
        (both ends of the jump), for the quadratures' breakpoints."""
        lb, ls = self.buyer.levels, self.seller.levels
        costs = np.concatenate([self.cost_at(lb), self.cost_at(np.nextafter(lb, -np.inf))]) if len(lb) else []
        values = np.concatenate([self.value_at(ls), self.value_at(np.nextafter(ls, np.inf))]) if len(ls) else []
        return [float(x) for x in costs if np.isfinite(x)], [float(x) for x in values if np.isfinite(x)]

    def trades(self, v, c):
        """Trade on each draw: v >= θ(c)."""
        return np.asarray(v, dtype=float) >= self.threshold(c)

    def exact(self) -> TradeExact:
        """Pr[trade], E[V; trade], E[C; trade] and E[θ(C); trade] over the seller's cost; E[κ(V); trade] over
        the buyer's value. Budget = E[θ(C) - κ(V); trade] (the expected virtual surplus with a = 1)."""
        tr = self.traders

        def per_cost(c):
            theta = self.threshold(c)
            q = tr.Q(theta)
            with np.errstate(invalid="ignore"):  # inf * 0 where nobody trades
                return np.array([q, tr.A(theta), c * q, np.where(q > 0, theta * q, 0.0)])

        def per_value(v):
            kappa = self.critical_cost(v)
            g = tr.Gc(kappa)
            with np.errstate(invalid="ignore"):
                return np.array([np.where(g > 0, kappa * g, 0.0)])
        costs, values = self.jumps()
        trade, value, cost, pays = over_cost(tr, per_cost, costs, what="trade rule")
        (receives,) = over_value(tr, per_value, values, what="trade rule")
        return TradeExact.from_sums(trade, value, cost, pays, receives)

    def outcome(self, v, c) -> dict[str, np.ndarray]:
        """Per draw: trade iff v >= θ(c); the buyer pays θ(c) and the seller receives κ(v) when they trade."""
        theta, kappa = self.threshold(c), self.critical_cost(v)
        trade = v >= theta
        kappa = np.where(np.isfinite(kappa), kappa, c)  # a draw on the boundary, within rounding of the rule
        return outcome_arrays(v, c, trade, np.where(trade, theta, 0.0), np.where(trade, kappa, 0.0))


def trade_rule(market, a_buyer: float, a_seller: float) -> TradeRule:
    """The rule "trade iff v - a_buyer (1-F(v))/f(v) >= c + a_seller G(c)/g(c)" for ``Market.trade(F, G)``."""
    return TradeRule(market, a_buyer, a_seller)


class SecondBest(TradeMechanism):
    """Myerson–Satterthwaite: the trade rule with a_buyer = a_seller = a, a the smallest weight in [0, 1] whose
    expected budget is 0 (a = 0, first best, when VCG already balances in expectation).

    The budget is continuous in a unless ironed levels of the two sides (or atoms) meet, where a set of
    positive probability switches between trade and no trade at once: there the budget jumps across 0 and the
    second best randomises on that tie set, i.e. runs the rule just below the jump (budget < 0) with probability
    ν and the rule at it (budget > 0) otherwise, ν chosen so that the expected budget is 0 (an ex-ante lottery
    between two dominant-strategy IC, ex-post IR rules: both properties hold for each draw of the coin)."""

    name = "second-best"
    randomized = True  # draws a coin per trade (used only when the budget jumps: ``mixture``)

    def __init__(self):
        self._solved: dict = {}  # market (a value) -> (a, rule, low rule or None, ν)

    def mixture(self, market) -> tuple[float, TradeRule, TradeRule | None, float]:
        """(a, rule, low, ν): run ``low`` (budget < 0) with probability ν, else ``rule`` (budget >= 0); low is
        None and ν = 0 when ``rule`` alone balances the budget. brentq on a -> E[budget](a), which rises from
        -E[VCG deficit] at a = 0."""
        if market not in self._solved:
            def budget(a):
                return trade_rule(market, a, a).exact().budget
            b0 = budget(0.0)
            if b0 >= 0:
                a = 0.0
            else:
                b1 = budget(1.0)
                if b1 < 0:  # pragma: no cover - E[(ψ - γ)^+] >= 0 always
                    raise InputError("market", f"no budget-balanced rule: the budget at a = 1 is {b1:.6g}")
                a = float(optimize.brentq(budget, 0.0, 1.0, xtol=1e-13, rtol=1e-13))
            self._solved[market] = self._tie(market, a, budget)
        return self._solved[market]

    @staticmethod
    def _tie(market, a: float, budget):
        """The rule at a, or, where the budget jumps at a, the two rules on both sides of the jump and ν."""
        rule = trade_rule(market, a, a)
        ex = rule.exact()
        if abs(ex.budget) <= 1e-11 * max(ex.buyer_pays, ex.seller_receives, 1e-300):
            return a, rule, None, 0.0
        step = 1e-12 if ex.budget > 0 else -1e-12  # the jump is within brentq's xtol of a: look beside it
        for _ in range(40):
            b = min(max(a - step, 0.0), 1.0)
            other = budget(b)
            if (other < 0) == (ex.budget > 0) or b in (0.0, 1.0):
                break
            step *= 2
        lo, hi, b_lo, b_hi = (b, a, other, ex.budget) if ex.budget > 0 else (a, b, ex.budget, other)
        return hi, trade_rule(market, hi, hi), trade_rule(market, lo, lo), b_hi / (b_hi - b_lo)

    def solve(self, market) -> tuple[float, TradeRule]:
        """(a, rule): the weight and the rule with budget >= 0 (``mixture`` adds the randomisation, if any)."""
        return self.mixture(market)[:2]

    def exact(self, market) -> TradeExact:
        a, rule, low, nu = self.mixture(market)
        notes = (f"a = {a:.12g}",)
        if low is None:
            return TradeExact(**{**rule.exact().__dict__, "notes": notes})
        notes += (f"the budget jumps at a: rule a = {low.a_buyer:.12g} with probability {nu:.12g}, "
                  f"else a = {a:.12g}",)
        return mix_exact([low.exact(), rule.exact()], [nu, 1.0 - nu], notes)

    def outcome(self, market, v, c, coin=None):
        _, rule, low, nu = self.mixture(market)
        out = rule.outcome(v, c)
        if low is None:
            return out
        if coin is None:
            raise InputError("coin", "the second best randomises here: pass one uniform on [0, 1) per draw")
        pick = np.asarray(coin) < nu
        other = low.outcome(v, c)
        return {k: np.where(pick, other[k], out[k]) for k in out}
