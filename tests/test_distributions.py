"""Distributions layer (issue 2): closed forms, quadrature, samplers against the cdf, shape classes, errors.

Expected values come from closed forms written here or from scipy.stats / scipy.integrate, never from the
code under test."""
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from distributions import (Discrete, EqualRevenue, Example42, Exponential, InputError, Lomax, LogNormal, Mixture,
                           Pareto, ScipyDistribution, Uniform, parse_spec)

BIMODAL = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"

# (spec, independent scipy.stats reference or None, closed-form mean)
CONTINUOUS = [
    ("uniform:low=0,high=1", stats.uniform(0, 1), 0.5),
    ("uniform:low=2,high=5", stats.uniform(2, 3), 3.5),
    ("exponential:rate=2", stats.expon(scale=0.5), 0.5),
    ("lomax:shape=3", stats.lomax(3), 0.5),
    ("lomax:shape=2.5,scale=2", stats.lomax(2.5, scale=2), 2 / 1.5),
    ("pareto:shape=3,scale=2", stats.pareto(3, scale=2), 3 * 2 / 2),
    ("weibull:shape=0.5", stats.weibull_min(0.5), math.gamma(3.0)),
    ("weibull:shape=2,scale=3", stats.weibull_min(2, scale=3), 3 * math.gamma(1.5)),
    ("truncnorm:mean=1,sd=1,low=0,high=3", stats.truncnorm(-1, 2, loc=1, scale=1),
     stats.truncnorm(-1, 2, loc=1, scale=1).mean()),
    ("beta:a=2,b=5", stats.beta(2, 5), 2 / 7),
    ("lognormal:mu=0.5,sigma=0.8", stats.lognorm(0.8, scale=math.exp(0.5)), math.exp(0.5 + 0.32)),
]


@pytest.mark.parametrize("spec,ref,mean", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_against_scipy(spec, ref, mean):
    d = parse_spec(spec)
    assert d.mean == pytest.approx(mean, rel=1e-8)
    q = np.array([1e-12, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99])
    assert np.allclose(d.v(q), ref.isf(q), rtol=1e-9, atol=1e-12)
    x = ref.isf(q)
    assert np.allclose(d.sf(x), ref.sf(x), rtol=1e-9, atol=1e-15)
    assert np.allclose(d.cdf(x), ref.cdf(x), rtol=1e-9, atol=1e-15)
    assert np.allclose(d.pdf(x), ref.pdf(x), rtol=1e-8)
    # V(q) = int_{v(q)}^inf x f(x) dx, by quadrature in value space against scipy's density
    for qi in (1e-6, 0.1, 0.5, 1.0):
        lo = float(ref.isf(qi)) if qi < 1 else float(ref.support()[0])
        top = min(float(ref.isf(qi * 1e-16)), float(ref.support()[1]))  # the rest is below 1e-16 relative
        edges = np.linspace(lo, top, 41)
        ref_V = sum(integrate.quad(lambda t: t * ref.pdf(t), a, b, epsrel=1e-13, limit=200)[0]
                    for a, b in zip(edges[:-1], edges[1:]))
        assert float(d.V(qi)) == pytest.approx(ref_V, rel=1e-7, abs=1e-12)
    # S = V - R, and R = q v
    assert np.allclose(d.S(q), d.V(q) - q * ref.isf(q), rtol=1e-6, atol=1e-12)


def test_exact_tails_down_to_1e_300():
    q = np.array([1e-300, 1e-100, 1e-30])
    e = Exponential(1.0)
    assert np.allclose(e.v(q), -np.log(q), rtol=1e-15)
    assert np.allclose(e.R(q), -q * np.log(q), rtol=1e-15)
    assert np.allclose(e.V(q), q * (1 - np.log(q)), rtol=1e-14)
    assert np.allclose(e.S(q), q, rtol=1e-14)  # no cancellation: V - R computed in closed form
    p = Pareto(shape=2.0, scale=1.0)
    assert np.allclose(p.V(q), 2 * np.sqrt(q), rtol=1e-14)
    lx = Lomax(shape=3.0)
    assert np.allclose(lx.v(q), q ** (-1 / 3) - 1, rtol=1e-13)
    u = Uniform(0, 1)
    assert np.allclose(u.S(q), q * q / 2, rtol=1e-15)
    for spec in ["lognormal", "weibull:shape=0.5", "truncnorm:mean=1,sd=1,low=0,high=3", "beta:a=2,b=5",
                 "example42:n=1e30", "equal-revenue:high=100", BIMODAL]:
        d = parse_spec(spec)
        for f in (d.v, d.R, d.V, d.S):
            vals = np.asarray(f(q))
            assert np.all(np.isfinite(vals)) and np.all(vals >= 0), (spec, f.__name__, vals)
    # lognormal upper tail against the closed form exp(mu + sigma z), z the upper normal quantile
    ln = LogNormal(0.0, 1.0)
    z = -special.ndtri(1e-30)
    assert float(ln.v(1e-30)) == pytest.approx(math.exp(z), rel=1e-12)


def test_monopoly_reserves_closed_forms():
    assert Uniform(0, 1).monopoly_reserve == pytest.approx(0.5, abs=1e-7)
    assert Uniform(0, 1).q_m == pytest.approx(0.5, abs=1e-7)
    assert Exponential(1.0).monopoly_reserve == pytest.approx(1.0, abs=1e-6)
    assert Exponential(2.0).monopoly_reserve == pytest.approx(0.5, abs=1e-6)
    for a in (1.5, 2.0, 3.0, 5.0):
        assert Lomax(a).monopoly_reserve == pytest.approx(1 / (a - 1), rel=1e-6)
    for n in (1e6, 1e12, 1e30):
        assert Example42(n).monopoly_reserve == pytest.approx(1 / math.sqrt(2), abs=1e-6)
    # Pareto: R(q) = scale q^{1-1/a} increasing, so q_m = 1 and the reserve is the bottom of the support
    assert Pareto(2.0, scale=3.0).monopoly_reserve == pytest.approx(3.0)
    # equal revenue: R = 1 on [1/high, 1], the lowest monopoly reserve is the sup of argmax: q_m = 1, v = 1
    er = EqualRevenue(100.0)
    assert er.q_m == pytest.approx(1.0) and er.monopoly_reserve == pytest.approx(1.0)
    # bimodal 0.5 U[0,1] + 0.5 U[2,3]: R(q) = q (3 - 2q) on [0, 1/2] rises to 1 at the jump; reserve 2
    bm = parse_spec(BIMODAL)
    assert bm.q_m == pytest.approx(0.5, abs=1e-9) and bm.monopoly_reserve == pytest.approx(2.0, abs=1e-6)


def test_equal_revenue_and_example42_closed_forms():
    er = EqualRevenue(50.0)
    assert er.mean == pytest.approx(1 + math.log(50.0), rel=1e-12)
    assert er.atoms == [(50.0, 1 / 50.0)]
    assert np.allclose(er.R(np.array([0.001, 0.02, 0.5, 1.0])), [0.05, 1, 1, 1], rtol=1e-12)
    for n in (100, 1e6, 1e30):
        d = Example42(n)
        K = math.sqrt(math.log(n)) / 2
        assert d.K == pytest.approx(K) and d.atom_mass == pytest.approx(n ** -0.25, rel=1e-12)
        # E[v] = int_0^K 2 v^2 e^{-v^2} dv + K n^{-1/4}
        mean = integrate.quad(lambda v: 2 * v * v * math.exp(-v * v), 0, K, epsrel=1e-12)[0] + K * n ** -0.25
        assert d.mean == pytest.approx(mean, rel=1e-9)
        qa = d.atom_mass
        assert float(d.V(qa / 2)) == pytest.approx(K * qa / 2, rel=1e-12)
        assert float(d.v(qa * 1.5)) == pytest.approx(math.sqrt(-math.log(qa * 1.5)), rel=1e-12)


def test_mixture_and_discrete():
    bm = parse_spec(BIMODAL)
    assert isinstance(bm, Mixture) and bm.mean == pytest.approx(1.5)
    q = np.array([0.1, 0.5, 0.5 + 1e-9, 0.75, 1.0])
    # v(q) = 3 - 2q on [0, 1/2] (left-continuous at the jump), 1 - 2(q - 1/2) above
    assert np.allclose(bm.v(q), [2.8, 2.0, 1.0, 0.5, 0.0], atol=1e-7)
    assert bm.jumps_q() == [pytest.approx(0.5)]
    # V(q) for q > 1/2: 0.5 * 2.5 + int_{1/2}^q (2 - 2t) dt
    assert float(bm.V(0.75)) == pytest.approx(1.25 + (2 * 0.75 - 0.75 ** 2) - (1 - 0.25), rel=1e-9)
    d = parse_spec("discrete:values=1/3/2/3,probs=0.1/0.2/0.3/0.4")
    assert isinstance(d, Discrete)
    assert d.atoms == [(3.0, pytest.approx(0.6)), (2.0, pytest.approx(0.3)), (1.0, pytest.approx(0.1))]
    assert d.mean == pytest.approx(0.1 + 3 * 0.6 + 2 * 0.3)
    assert np.allclose(d.v(np.array([0.3, 0.6, 0.61, 0.95])), [3, 3, 2, 1])
    assert float(d.V(0.7)) == pytest.approx(0.6 * 3 + 0.1 * 2)
    emp = Discrete.empirical([1.0, 1.0, 2.0, 5.0])
    assert emp.atoms == [(5.0, 0.25), (2.0, 0.25), (1.0, 0.5)]
    assert emp.mean == pytest.approx(2.25)


# ---------------------------------------------------------------------- mixture value function v(q)
# Quantiles where v of a mixture is hardest: the extreme tails, q next to 1, and around the jump / atom edges.
EXTREME_Q = [0.0, 1e-300, 1e-100, 1e-30, 1e-12, 1e-6, 1 - 1e-6, 1 - 1e-12, 1 - 2 ** -52, 1.0]


def test_mixture_value_function_closed_form_with_a_gap():
    """0.1 U[2, 3] + 0.9 U[0, 1.5]: Pr[v >= x] = 0.1 (3 - x) on [2, 3], 0.1 on the gap (1.5, 2], and
    0.1 + 0.9 (1.5 - x) / 1.5 on [0, 1.5]; so v(q) = 3 - 10 q for q <= 0.1 (left-continuous: v(0.1) = 2, the top
    of the gap) and v(q) = 1.5 (1 - (q - 0.1) / 0.9) above, a jump from 2 to 1.5 at q = 0.1."""
    d = parse_spec("mixture:0.1*uniform(low=2;high=3)+0.9*uniform(low=0;high=1.5)")

    def exact(q):
        return np.where(q <= 0.1, 3.0 - 10.0 * q, 1.5 * (1.0 - (q - 0.1) / 0.9))

    q = np.unique(np.concatenate([np.linspace(0, 1, 2001), np.geomspace(1e-300, 1e-3, 400),
                                  1 - np.geomspace(1e-15, 1e-3, 200), EXTREME_Q,
                                  [0.1, 0.1 * (1 - 1e-12), 0.1 * (1 + 1e-12), np.nextafter(0.1, 1)]]))
    v = d.v(q)
    # doubles: the values themselves are rounded, and q near 1 pins v only to ~1e-16 absolute
    assert np.allclose(v, exact(q), rtol=1e-13, atol=1e-15)
    assert float(d.v(0.1)) == 2.0  # the jump: the top of the gap, exactly
    assert float(d.v(np.nextafter(0.1, 1))) == pytest.approx(1.5, abs=1e-14)
    assert float(d.v(0.0)) == 3.0 and float(d.v(1.0)) == pytest.approx(0.0, abs=1e-15)  # sf rounds to 1 there
    # the generalised inverse itself: sf(v(q)) >= q, and the next double up falls below q (not within ~1e-15 of
    # q = 1, where sf rounds coarser than v: there v is min_i v_i(q), accurate to ~1e-16 absolute, as checked above)
    inner = (q > 0) & (q < 1 - 1e-12)
    assert np.all(d.sf(v[inner]) >= q[inner])
    assert np.all(d.sf(np.nextafter(v[inner], np.inf)) < q[inner])
    # one quantile at a time (the memo) and arrays agree
    some = q[::97]
    assert np.array_equal([float(d.v(t)) for t in some], d.v(some))


def test_mixture_value_function_against_brentq():
    """0.5 U[0, 1] + 0.3 Exp(1) + 0.2 Lomax(3): v(q) is the root of the mixture's survival function built from
    scipy.stats, found by scipy's brentq to full precision."""
    d = parse_spec("mixture:0.5*uniform(low=0;high=1)+0.3*exponential(rate=1)+0.2*lomax(shape=3)")
    parts = [(0.5, stats.uniform(0, 1)), (0.3, stats.expon()), (0.2, stats.lomax(3))]

    def ref(q):
        if q == 1.0:
            return 0.0
        f = lambda x: sum(w * c.sf(x) for w, c in parts) - q  # noqa: E731
        hi = 1.0
        while f(hi) >= 0:
            hi *= 2.0
        return optimize.brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)

    q = np.concatenate([[t for t in EXTREME_Q if t > 0], np.linspace(0.01, 0.99, 99),
                        np.geomspace(1e-250, 1e-2, 60)])
    expect = np.array([ref(t) for t in q])
    # 1e-13 relative, and ~1e-16 absolute near q = 1 where the doubles of q pin v no closer
    assert np.allclose(d.v(q), expect, rtol=1e-13, atol=5e-16)


def test_mixture_value_function_atoms_are_flat():
    """0.5 Discrete{1, 2} + 0.5 U[0, 3]: sf = 0.5 Pr_D[v >= x] + (3 - x) / 6, so by hand v(q) = 3 - 6 q on
    [0, 1/6], 2 (the atom) on [1/6, 5/12], 4.5 - 6 q on [5/12, 7/12], 1 (the atom) on [7/12, 5/6], 6 - 6 q
    above."""
    d = parse_spec("mixture:0.5*discrete(values=1/2)+0.5*uniform(low=0;high=3)")
    q = np.concatenate([np.linspace(0, 1, 1201), np.geomspace(1e-300, 1e-3, 50), EXTREME_Q])
    exact = np.select([q <= 1 / 6, q <= 5 / 12, q <= 7 / 12, q <= 5 / 6], [3 - 6 * q, 2.0, 4.5 - 6 * q, 1.0],
                      6 - 6 * q)
    assert np.allclose(d.v(q), exact, rtol=1e-13, atol=1e-15)
    inside = np.array([0.17, 0.2, 0.3, 0.41, 0.59, 0.7, 0.8, 0.83])  # inside the two flats: the atoms exactly
    assert np.array_equal(d.v(inside), [2, 2, 2, 2, 1, 1, 1, 1])


def test_scipy_adapter():
    g = ScipyDistribution(stats.gamma(2.0))
    assert g.mean == pytest.approx(2.0, rel=1e-8)
    assert np.allclose(g.v(np.array([1e-10, 0.3])), stats.gamma(2.0).isf([1e-10, 0.3]))
    g.numba_spec()
    assert g.table_error < 1e-5
    assert str(g.shape_class()) == "regular, MHR"  # gamma shape >= 1 has an increasing hazard rate
    with pytest.raises(ValueError, match="frozen"):
        ScipyDistribution(stats.norm(0, 1))  # values must be non-negative


ALL_SPECS = ["uniform", "exponential", "lomax:shape=3", "pareto:shape=2.5", "equal-revenue:high=20",
             "weibull:shape=0.5", "truncnorm:mean=1,sd=1,low=0,high=3", "beta:a=2,b=5", "lognormal",
             "example42:n=1e6", BIMODAL, "discrete:values=1/2/3,probs=0.2/0.3/0.5", "scipy:gamma,a=2"]


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_numba_value_function_matches_numpy(spec):
    d = parse_spec(spec)
    q = np.concatenate([np.geomspace(1e-300, 1e-3, 50), np.linspace(1e-3, 1, 200)])
    exact, fast = d.v(q), d.v_numba(q)
    tol = getattr(d, "table_error", 0.0) * 1.01 + 1e-12
    scale = np.maximum(np.abs(exact), 1e-3 * np.median(np.abs(exact)))
    bad = np.abs(fast - exact) > tol * scale
    # a table interpolates across a jump inside one cell of width 1e-12 (probability 1e-12): skip those
    for j in d.jumps_q():
        bad &= ~((q > j) & (q < j * (1 + 1e-11)))
    assert tol < 1e-5
    assert not np.any(bad), (q[bad], exact[bad], fast[bad])


@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if not s.startswith("discrete")])
def test_sampler_against_cdf(spec):
    """Kolmogorov-Smirnov on the continuous part; the atoms' frequencies by a binomial z-score."""
    d = parse_spec(spec)
    rng = np.random.default_rng(20261125)
    u = rng.random(200_000)
    for x in (d.sample(200_000, rng=7), d.v_numba(u)):
        atom_values = [a for a, _ in d.atoms]
        for value, mass in d.atoms:
            hits = np.mean(x == value)
            z = (hits - mass) / math.sqrt(mass * (1 - mass) / len(x))
            assert abs(z) < 4, (value, hits, mass)
        cont = x[~np.isin(x, atom_values)]
        atom_mass = sum(m for _, m in d.atoms)
        # cdf of the continuous part, conditional on missing the atoms
        def cdf_cont(t):
            below = d.cdf(t) - sum(m for a, m in d.atoms if a <= np.max(t))
            return np.clip(np.asarray(below) / (1 - atom_mass), 0, 1)
        if atom_mass > 0:
            assert all(a >= np.max(cont) for a in atom_values)  # here the atoms sit at the top
        stat = stats.kstest(cont, cdf_cont)
        assert stat.pvalue > 1e-4, stat


def test_discrete_sampler_chi_square():
    d = parse_spec("discrete:values=1/2/3,probs=0.2/0.3/0.5")
    x = d.v_numba(np.random.default_rng(3).random(100_000))
    counts = [np.sum(x == v) for v in (1, 2, 3)]
    assert stats.chisquare(counts, np.array([0.2, 0.3, 0.5]) * len(x)).pvalue > 1e-4


SHAPES = [  # Figure 1 of the paper
    ("exponential", True, True, True),
    ("uniform", True, True, False),
    ("lomax:shape=3", True, False, True),
    ("lomax:shape=1.5", True, False, True),
    ("pareto:shape=2", True, False, True),
    ("equal-revenue:high=100", True, False, False),  # the atom at high breaks anti-MHR (Prop. 2.1)
    ("weibull:shape=0.5", False, False, True),
    ("weibull:shape=2", True, True, False),
    ("example42:n=1e30", True, True, False),
    ("example42:n=100", True, True, False),
    ("truncnorm:mean=1,sd=1,low=0,high=3", True, True, False),
    (BIMODAL, False, False, False),
]


@pytest.mark.parametrize("spec,regular,mhr,anti", SHAPES, ids=[s[0] for s in SHAPES])
def test_shape_classes(spec, regular, mhr, anti):
    c = parse_spec(spec).shape_class()
    assert (c.regular, c.mhr, c.anti_mhr) == (regular, mhr, anti)


def test_virtual_value_and_hazard_rate():
    u = Uniform(0, 1)
    x = np.array([0.2, 0.5, 0.9])
    assert np.allclose(u.psi(x), 2 * x - 1)
    assert np.allclose(u.phi(x), 1 / (1 - x))
    e = Exponential(3.0)
    assert np.allclose(e.phi(x), 3.0) and np.allclose(e.psi(x), x - 1 / 3)


BAD = [
    ("exponential:rate=-1", "rate"),
    ("lomax:shape=0", "shape"),
    ("pareto:shape=2,scale=-1", "scale"),
    ("uniform:low=1,high=1", "high"),
    ("uniform:low=nan", "low"),
    ("weibull:shape=nan", "shape"),
    ("equal-revenue:high=0.5", "high"),
    ("truncnorm:sd=0", "sd"),
    ("nosuch", "dist"),
    ("lomax:shape", "malformed"),
    ("lomax:shape=abc", "shape"),
    ("lomax:alpha=2", "alpha"),
    ("example42", "n"),
    ("example42:n=1", "n"),
    ("mixture:0.3*uniform+0.3*exponential", "weights"),
    ("discrete:values=1/2,probs=0.5/0.6", "probs"),
    ("scipy:nosuchdist", "scipy"),
]


@pytest.mark.parametrize("spec,word", BAD)
def test_bad_parameters_raise_value_error(spec, word):
    with pytest.raises(InputError, match=word) as err:  # an InputError is a ValueError
        parse_spec(spec)
    assert err.value.argument == ("spec" if word == "malformed" else word)  # it names the argument


def test_spec_round_trip():
    for spec in ALL_SPECS:
        d = parse_spec(spec)
        again = parse_spec(d.spec)
        q = np.array([1e-9, 0.3, 0.7])
        assert np.allclose(again.v(q), d.v(q), rtol=1e-6), spec
    assert parse_spec("example42", n=1e30).n == 1e30


def test_virtual_value_and_hazard_in_the_far_tail():
    """psi(v) = v - 1/rate and phi = rate for exponential values where 1 - cdf rounds to 0 (v = 40, 300);
    lomax(shape a): psi(v) = v - (1 + v)/a."""
    d = parse_spec("exponential:rate=2")
    np.testing.assert_allclose(d.psi([40.0, 300.0]), [39.5, 299.5], rtol=1e-14)
    np.testing.assert_allclose(d.phi([40.0, 300.0]), [2.0, 2.0], rtol=1e-12)
    lomax = parse_spec("lomax:shape=3")
    np.testing.assert_allclose(lomax.psi([1e8]), [1e8 - (1 + 1e8) / 3], rtol=1e-12)
