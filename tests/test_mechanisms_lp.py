"""Optimal mechanisms (Myerson's ironing, the buyer-optimal mechanism, the Lagrangian optimum of Π + λU)
against an independent linear program written here: piecewise-constant interim allocations on a fine quantile
grid, non-increasing, with Border's constraints int_0^q x <= X̂(q) (scipy.optimize.linprog).

On the grid (atom edges and jumps of v are cell edges) the objective is exact: n sum_k x_k (C(g_{k+1}-) -
C(g_k+)) for C = R + λS, plus, at each jump of v (a gap of the support, where R = q v jumps by dR < 0 and S by
-dR), the allocation z the mechanism gives to the gap, free between the two neighbouring cells' x (the pooled
bid may sit at either end of the gap). The LP optimum is a lower bound converging as O(h^2) in the cell width.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, sparse, stats

from distributions import Market, parse_spec
from mechanisms import LagrangianOptimal, Myerson, SurplusOptimal, benchmarks


def border_bound(q, n, m):
    """X̂(q) = E[min(Bin(n, q), m)] / n."""
    return sum(stats.binom.sf(j - 1, n, q) for j in range(1, m + 1)) / n


def lp_optimum(dist, n, lam, m=1, cells=300):
    """max over the grid LP of Π + λU (λ = inf: U alone); returns (Π, U)."""
    g = np.concatenate([np.linspace(0, 1, cells + 1), np.geomspace(1e-7, 1, cells // 2)])
    jumps = [float(j) for j in dist.jumps_q() if 0 < j < 1]
    g = np.unique(np.concatenate([g, [p for a, b, _ in dist.atoms_q() for p in (a, b)], jumps]))
    K, eps = len(g) - 1, 1e-13
    lo, hi = np.minimum(g[:-1] + eps, g[1:]), np.maximum(g[1:] - eps, g[:-1])
    dR = dist.R(hi) - dist.R(lo)
    dS = dist.V(hi) - dist.V(lo) - dR
    # the bottom of the support: serving every type at reserve 0 gives each the extra utility v(1)
    dR_end, dS_end = -float(dist.v(1.0)), float(dist.v(1.0))
    jR = np.array([j * (float(dist.v(j * (1 + 1e-12))) - float(dist.v(j))) for j in jumps] + [dR_end])
    jS = np.concatenate([-jR[:-1], [dS_end]])
    J = len(jR)
    A = [np.hstack([np.tril(np.ones((K, K))) * np.diff(g)[None, :], np.zeros((K, J))])]
    mono = np.zeros((K - 1, K + J))
    mono[np.arange(K - 1), np.arange(K - 1)], mono[np.arange(K - 1), np.arange(1, K)] = -1, 1
    A.append(mono)
    rows = []
    for c, j in enumerate(jumps + [1.0]):
        k = int(np.argmin(np.abs(g - j)))
        up = np.zeros(K + J)
        up[K + c], up[k - 1] = 1, -1  # z <= x of the cell above the gap
        rows.append(up)
        if k < K:
            down = np.zeros(K + J)
            down[K + c], down[k] = -1, 1  # z >= x of the cell below
            rows.append(down)
    A.append(np.array(rows))
    b = np.concatenate([border_bound(g[1:], n, m), np.zeros(K - 1 + len(rows))])
    cR, cS = np.concatenate([dR, jR]), np.concatenate([dS, jS])
    obj = cS if math.isinf(lam) else cR + lam * cS
    res = optimize.linprog(-obj, A_ub=sparse.csr_matrix(np.vstack(A)), b_ub=b, bounds=[(0, 1)] * (K + J),
                           method="highs")
    assert res.status == 0, res.message
    return n * float(res.x @ cR), n * float(res.x @ cS)


BIMODAL = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"
IRONED = "mixture:0.8*uniform(low=0;high=1)+0.2*uniform(low=1.1;high=1.5)"
CASES = [(s, n, m) for s in ("weibull:shape=0.5", BIMODAL, IRONED, "discrete:values=1/2/3,probs=0.5/0.3/0.2")
         for n in (2, 3, 5) for m in (1, 2) if m == 1 or n == 5]


@pytest.mark.parametrize("spec,n,m", CASES)
def test_myerson_revenue_matches_lp(spec, n, m):
    d = parse_spec(spec)
    lp_rev, _ = lp_optimum(d, n, 0.0, m)
    assert benchmarks.revenue_max(Market.iid(d, n, m)) == pytest.approx(lp_rev, rel=1e-3)
    assert Myerson(m).exact(Market.iid(d, n)).revenue >= lp_rev * (1 - 1e-9)  # the grid LP is a lower bound


@pytest.mark.parametrize("spec,n", [(s, n) for s in ("weibull:shape=0.5", BIMODAL, IRONED, "lognormal:mu=0,sigma=1")
                                    for n in (2, 3, 5)])
def test_surplus_max_matches_lp(spec, n):
    d = parse_spec(spec)
    _, lp_u = lp_optimum(d, n, math.inf)
    assert benchmarks.surplus_max(Market.iid(d, n)) == pytest.approx(lp_u, rel=1e-3)
    assert SurplusOptimal().exact(Market.iid(d, n)).surplus >= lp_u * (1 - 1e-9)


@pytest.mark.parametrize("spec,lam", [(IRONED, 0.5), (IRONED, 3.0), (BIMODAL, 2.0), ("weibull:shape=0.5", 0.7),
                                      ("lognormal:mu=0,sigma=1", 4.0)])
def test_lagrangian_optimum_matches_lp(spec, lam):
    """Proposition B.6: ironing R_λ = λV + (1-λ)R maximises Π + λU."""
    d = parse_spec(spec)
    for n in (2, 4):
        lp_pi, lp_u = lp_optimum(d, n, lam)
        ex = LagrangianOptimal(lam).exact(Market.iid(d, n))
        assert ex.revenue + lam * ex.surplus == pytest.approx(lp_pi + lam * lp_u, rel=1e-3)
        assert ex.revenue + lam * ex.surplus >= (lp_pi + lam * lp_u) * (1 - 1e-9)


def test_ironing_really_irons():
    """0.8 U[0,1] + 0.2 U[1.1,1.5]: R(q) = 1.5q - 2q^2 rises to 0.22 at the gap q = 0.2, drops to 0.2, and
    peaks again at q_m = 1/2 (R = q(1-q)/0.8 = 0.3125). Myerson pools (0.2, b] with b the tangency point of the
    line from (0.2, 0.22): b^2 - 0.4 b + 0.024 = 0; bid v(b) = (1-b)/0.8, next 1.1 (the top of the gap)."""
    d = parse_spec(IRONED)
    rule = Myerson().rule(Market.iid(d, 3))
    assert rule.r == pytest.approx(0.5, rel=1e-9)
    assert rule.reserve == pytest.approx(0.625, rel=1e-9)
    b = (0.4 + math.sqrt(0.16 - 0.096)) / 2
    assert len(rule.pool_lo) == 1 and rule.pool_lo[0] == pytest.approx(0.2, rel=1e-12)
    assert rule.pool_hi[0] == pytest.approx(b, rel=1e-6)
    assert rule.pool_bid[0] == pytest.approx((1 - b) / 0.8, rel=1e-6)
    assert rule.pool_next[0] == pytest.approx(1.1, rel=1e-12)
    # the revenue in closed form: n ∫ x dR̄ with R̄ linear on the pool (Myerson, 1981)
    n = 3
    Xh = lambda q: (1 - (1 - q) ** n) / n  # noqa: E731
    R = lambda q: 1.5 * q - 2 * q * q if q <= 0.2 else q * (1 - q) / 0.8  # noqa: E731
    top = n * integrate.quad(lambda q: (1 - q) ** (n - 1) * (1.5 - 4 * q), 0, 0.2, epsabs=0, epsrel=1e-13)[0]
    pool = n * (Xh(b) - Xh(0.2)) / (b - 0.2) * (R(b) - R(0.2))
    tail = n * integrate.quad(lambda q: (1 - q) ** (n - 1) * (1 - 2 * q) / 0.8, b, 0.5, epsabs=0, epsrel=1e-13)[0]
    assert benchmarks.revenue_max(Market.iid(d, n)) == pytest.approx(top + pool + tail, rel=1e-10)
