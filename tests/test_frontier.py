"""The Pareto frontier and the bargaining solutions (issue 6) against an independent linear program and the
paper's theorems (Section 3: Theorems 3.4, 3.5, 3.7, Propositions 3.1/3.3; Sections 4-5: Theorems 4.1, 5.2,
5.3; Example 4.2)."""
import math

import numpy as np
import pytest

import border_lp
from distributions import InputError, Market, parse_spec
from mechanisms import benchmarks
from mechanisms.bargaining import solve
from mechanisms.frontier import Frontier

BIMODAL = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"
IRREGULAR = "mixture:0.1*uniform(low=2;high=3)+0.9*uniform(low=0;high=1.5)"  # Myerson irons across the gap

_CACHE: dict = {}


def frontier(spec, n, m=1):
    key = (spec, n, m)
    if key not in _CACHE:
        _CACHE[key] = Frontier(Market.iid(spec, n, m))
    return _CACHE[key]


LP_CASES = [("uniform", 3), ("exponential", 2), ("lomax:shape=3", 5), ("weibull:shape=0.5", 3),
            ("example42:n=10", 10), ("truncnorm:mean=1,sd=1,low=0,high=3", 4), (BIMODAL, 3), (IRREGULAR, 4)]


@pytest.mark.parametrize("spec,n", LP_CASES, ids=[f"{s}-n{n}" for s, n in LP_CASES])
def test_frontier_matches_linear_program(spec, n):
    """Π(U) = max revenue subject to surplus >= U (Lemma 3.9), computed independently by an LP over
    piecewise-constant interim allocations with Border's constraints: the LP is a lower bound converging from
    below, so Π(U) >= LP - 1e-3 relative, and not above it by more than the grid's error."""
    F = frontier(spec, n)
    d = F.dist
    assert F.revenue_max == pytest.approx(border_lp.max_revenue(d, n, cells=400), rel=1e-3)
    for frac in (0.0, 0.25, 0.5, 0.75, 0.97):
        U = F.surplus_min + frac * (F.surplus_max - F.surplus_min)
        lp = border_lp.frontier_revenue_at(d, n, U, cells=400)
        assert lp is not None
        assert F.revenue_at(U) == pytest.approx(lp, rel=1e-3, abs=1e-6), (frac, U)


@pytest.mark.parametrize("spec,n", [("uniform", 3), (BIMODAL, 3), ("lomax:shape=3", 5)])
def test_mechanisms_on_the_frontier_have_the_frontier_values(spec, n):
    F = frontier(spec, n)
    from mechanisms import exact_from_rule

    for frac in (0.2, 0.6, 0.9):
        U = F.surplus_min + frac * (F.surplus_max - F.surplus_min)
        ex = exact_from_rule(F.mechanism_at(U), F.market)
        assert ex.surplus == pytest.approx(U, rel=1e-9)
        assert ex.revenue == pytest.approx(F.revenue_at(U), rel=1e-9)


def test_frontier_is_concave_and_decreasing():
    for spec, n in LP_CASES:
        F = frontier(spec, n)
        us = np.array([p.surplus for p in F.points])
        ps = np.array([p.revenue for p in F.points])
        assert np.all(np.diff(us) > 0) and np.all(np.diff(ps) < 0)
        slopes = np.diff(ps) / np.diff(us)
        assert np.all(np.diff(slopes) <= 1e-6 * np.abs(slopes[1:]) + 1e-9), spec


def _pooled_value_gaps(rule, dist):
    """The gaps (bid, next) of the bid space that are not atoms of F (atoms pool by themselves)."""
    atoms = {round(v, 12) for v, _ in dist.atoms}
    return [(b, nx) for b, nx in zip(rule.pool_bid, rule.pool_next) if nx > b and round(b, 12) not in atoms]


@pytest.mark.parametrize("spec", ["lomax:shape=3", "exponential", "lomax:shape=1.5,scale=2"])
def test_theorem_3_4_regular_anti_mhr_second_price_with_falling_reserve(spec):
    """Regular and anti-MHR with support starting at 0: every frontier point is second-price with a reserve
    <= the monopoly reserve, the reserve falling as U rises."""
    F = frontier(spec, 5)
    reserves = [p.rule.reserve for p in F.points]
    for p in F.points:
        assert len(p.rule.pool_lo) == 0
        assert p.rule.reserve <= F.dist.monopoly_reserve * (1 + 1e-9)
    assert np.all(np.diff(reserves) <= 1e-9)


def test_theorem_3_4_needs_support_from_zero():
    """The paper's surplus formula U = E[x / phi] (Lemma C.3) gives the lowest type zero utility. In the
    mechanism space of Section 2 (payments >= 0, the item may be given away) a support starting above 0 lets
    the surplus side serve the lowest types for free: for Pareto type I the frontier's right end pools the
    bottom at bid 0 and U* exceeds U(second price) -- Theorem 3.4 and Lemma C.2 need v(1) = 0."""
    from mechanisms import SecondPrice

    F = frontier("pareto:shape=2.5", 5)
    end = F.points[-1].rule
    assert len(end.pool_lo) >= 1 and end.pool_hi[-1] == pytest.approx(1.0) and end.pool_bid[-1] == 0.0
    assert F.surplus_max > SecondPrice(0.0).exact(F.market).surplus * 1.01


def test_theorem_3_5_anti_mhr_bid_space_expands_reserve_falls():
    """Anti-MHR, not regular (weibull 0.5): extreme points are indirect Vickrey auctions with reserve <= the
    monopoly reserve; as U rises the reserve falls and the bid space expands (pooled stretches shrink)."""
    F = frontier("weibull:shape=0.5", 3)
    d = F.dist
    prev_pooled = math.inf
    prev_reserve = math.inf
    for p in F.points:
        assert p.rule.reserve <= d.monopoly_reserve * (1 + 1e-9)
        assert p.rule.reserve <= prev_reserve * (1 + 1e-9)
        pooled = float(np.sum(p.rule.pool_hi - p.rule.pool_lo))
        assert pooled <= prev_pooled + 1e-9
        prev_pooled, prev_reserve = pooled, p.rule.reserve


@pytest.mark.parametrize("spec,n", [("uniform", 3), ("truncnorm:mean=1,sd=1,low=0,high=3", 4),
                                    ("example42:n=100", 100)])
def test_theorem_3_7_mhr_phase_transition(spec, n):
    """MHR: below U+ = U(second price) second-price with a reserve <= monopoly reserve; above U+ zero reserve
    (every type served) and a shrinking bid space (the pooled stretch grows), ending at the lottery."""
    from mechanisms import SecondPrice

    F = frontier(spec, n)
    d = F.dist
    U_plus = SecondPrice(0.0).exact(F.market).surplus
    prev_pooled = -1.0
    for p in F.points:
        if p.surplus < U_plus * (1 - 1e-9):
            assert not _pooled_value_gaps(p.rule, d), p.bid_space()
            assert p.rule.reserve <= d.monopoly_reserve * (1 + 1e-9)
        elif p.surplus > U_plus * (1 + 1e-9):
            assert p.rule.r == pytest.approx(1.0)
            pooled = float(np.sum(p.rule.pool_hi - p.rule.pool_lo))
            assert pooled >= prev_pooled - 1e-9
            prev_pooled = pooled
    last = F.points[-1].rule
    assert len(last.pool_lo) == 1 and last.pool_lo[0] == 0 and last.pool_hi[0] == pytest.approx(1.0)  # lottery
    assert F.surplus_max == pytest.approx(d.mean, rel=1e-9)  # U* = E[v] (Hartline-Roughgarden, MHR)


def test_propositions_3_1_and_3_3_single_buyer_posted_prices():
    """n = 1: every extreme point is a posted price (the buyer pays the bid floor) no larger than the monopoly
    reserve (Proposition 3.1); for regular F consecutive extreme points are close, single prices trace the
    frontier (Proposition 3.3), while a gap makes the frontier jump between two prices (a mixture)."""
    for spec in ["uniform", "lomax:shape=3", "weibull:shape=0.5", BIMODAL]:
        F = frontier(spec, 1)
        d = F.dist
        for p in F.points:
            assert p.revenue == pytest.approx(p.rule.r * p.rule.reserve, rel=1e-9, abs=1e-12)
            assert p.rule.reserve <= d.monopoly_reserve * (1 + 1e-9)
        gaps = np.diff([p.surplus for p in F.points])
        if d.shape_class().regular:
            assert np.max(gaps) < 0.05 * (F.surplus_max - F.surplus_min)
    assert np.max(np.diff([p.surplus for p in frontier(BIMODAL, 1).points])) > 0.2  # a mixture edge


SUITE = ["uniform", "exponential", "lomax:shape=3", "pareto:shape=2.5", "weibull:shape=0.5",
         "truncnorm:mean=1,sd=1,low=0,high=3", BIMODAL, IRREGULAR, "beta:a=2,b=5"]
REGULAR_ANTI = ["exponential", "lomax:shape=3", "lomax:shape=2,scale=2", "lomax:shape=1.5"]  # v(1) = 0


@pytest.mark.parametrize("spec", SUITE)
@pytest.mark.parametrize("n", [1, 2, 5])
def test_theorem_4_1_i_and_5_3_i_half_of_opt(spec, n):
    F = frontier(spec, n)
    opt = benchmarks.opt(F.market)
    ks = solve(F, "ks")
    cross = solve(F, "cross-nash")
    assert ks.revenue / F.revenue_max == pytest.approx(ks.surplus / F.surplus_max, rel=1e-9)  # KS fairness
    assert ks.welfare >= 0.5 * opt * (1 - 1e-9)
    assert cross.welfare >= 0.5 * opt * (1 - 1e-9)


@pytest.mark.parametrize("spec", REGULAR_ANTI)
@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_theorems_4_1_ii_5_2_5_3_ii_regular_anti_mhr(spec, n):
    F = frontier(spec, n)
    opt = benchmarks.opt(F.market)
    assert solve(F, "ks").welfare >= n / (n + 1) * opt * (1 - 1e-9)
    assert solve(F, "nash").welfare >= (n - 1) / n * opt * (1 - 1e-9)
    assert solve(F, "cross-nash").welfare >= (n - 1) / n * opt * (1 - 1e-9)


def test_nash_and_cross_side_maximise_their_products():
    """No frontier point has a larger Nash (Π (U/n)^n) or cross-side (Π U) product than the solution."""
    for spec, n in [("uniform", 3), (BIMODAL, 3), ("example42:n=100", 100)]:
        F = frontier(spec, n)
        nash, cross = solve(F, "nash"), solve(F, "cross-nash")
        us, ps = F.curve(400)
        ok = ps > 0
        best_nash = np.max(np.log(ps[ok]) + n * np.log(us[ok]))
        assert math.log(nash.revenue) + n * math.log(nash.surplus) >= best_nash - 1e-9 * abs(best_nash)
        best_cross = np.max(np.log(ps[ok]) + np.log(us[ok]))
        assert math.log(cross.revenue) + math.log(cross.surplus) >= best_cross - 1e-12


def test_single_buyer_nash_equals_cross_side():
    for spec in ["uniform", "exponential"]:
        F = frontier(spec, 1)
        assert solve(F, "nash").welfare == pytest.approx(solve(F, "cross-nash").welfare, rel=1e-9)


def test_example_4_2_ks_keeps_half_nash_loses_it():
    """Example 4.2: OPT ~ K, U* = E[v] (the free lottery); the KS ratio stays >= 1/2 and approaches it, the Nash
    ratio falls towards 0 as n grows (Theorems 4.1 (iii), 5.1)."""
    ks_r, nash_r, cross_r = [], [], []
    for n in (1e2, 1e6, 1e30):
        F = Frontier(Market.iid("example42", n))
        d = F.dist
        assert F.surplus_max == pytest.approx(d.mean, rel=1e-9)
        ks_r.append(solve(F, "ks").welfare_ratio)
        nash_r.append(solve(F, "nash").welfare_ratio)
        cross_r.append(solve(F, "cross-nash").welfare_ratio)
    assert all(r >= 0.5 for r in ks_r + cross_r)
    assert ks_r[0] > ks_r[1] > ks_r[2]  # towards 1/2, slowly (about 0.63 at n = 1e30)
    assert nash_r[0] > nash_r[1] > nash_r[2]
    # Nash's welfare tends to E[v] while OPT ~ K = sqrt(ln n)/2: the ratio is about E[v]/K at n = 1e30
    market = Market.iid("example42", 1e30)
    assert nash_r[-1] == pytest.approx(market.dist.mean / benchmarks.opt(market), rel=0.05)


def test_bad_input():
    d = parse_spec("uniform")
    with pytest.raises(InputError, match="n") as err:
        Frontier(Market.iid(d, 0))
    assert err.value.argument == "n"
    with pytest.raises(InputError) as err:
        Frontier(Market.iid(d, 3, 4))  # more units than buyers
    assert err.value.argument == "m"
    with pytest.raises(TypeError, match="market"):
        Frontier(d, 3)  # the old (dist, n) call
    with pytest.raises(ValueError, match="solution"):
        solve(frontier("uniform", 3), "egalitarian")
    with pytest.raises(ValueError, match="U"):
        frontier("uniform", 3).revenue_at(10.0)


def test_nash_at_astronomical_n_keeps_its_revenue():
    """At n = 1e30 the Nash point sits within ~1/n of the buyer-optimal end: its weight on the other extreme
    point is ~1e-30 and must not round to 0 (which would give revenue 0 and a wrong edge). Uniform values: the
    Nash welfare tends to E[v] = 1/2 while OPT -> 1, and the revenue is U*/(n+1) times the edge's slope."""
    F = Frontier(Market.iid("uniform", 1e30))
    nash = solve(F, "nash")
    assert nash.revenue > 0
    assert nash.welfare_ratio == pytest.approx(0.5, rel=1e-6)
    assert nash.exact.revenue == pytest.approx(nash.revenue, rel=1e-9)
