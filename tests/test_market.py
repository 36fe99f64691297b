"""The Market value (``distributions.market``; ``docs/architecture.md``, "The Market"), issue 12.

A Market is validated once, where it is built; it is immutable and compares and hashes by value (its
distributions by their parameters), so every per-market cache is keyed by value. The wrong-cache regression of
the issue: one ``ks`` mechanism object used on two markets gave the first market's solution for the second when
the second distribution was allocated at the address (``id``) of the first. Expected values come from closed
forms or from fresh objects, never from the object under test.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import math
import pathlib
import pkgutil

import numpy as np
import pytest
from scipy import integrate, stats

import mechanisms
from distributions import (BuyerClass, Discrete, Example42, Exponential, InputError, InputTypeError, Lomax, Market,
                           Mixture, ScipyDistribution, Uniform, parse_spec)
from mechanisms import SecondPrice, benchmarks, parse_mechanism

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIMODAL = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"


def H(k):
    return math.fsum(1.0 / i for i in range(1, int(k) + 1))


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("n,error", [
    (True, InputTypeError), (False, InputTypeError), ("3", InputTypeError), (None, InputTypeError),
    ([3], InputTypeError), (2.5, InputError), (0, InputError), (0.0, InputError), (-3, InputError),
    (float("nan"), InputError), (float("inf"), InputError), (-float("inf"), InputError), (1e301, InputError),
    (10 ** 400, InputError), (np.float64("nan"), InputError), (1 + 2 ** -30, InputError),
])
def test_bad_number_of_buyers(n, error):
    with pytest.raises(error) as err:
        Market.iid("uniform", n)
    assert type(err.value) is error  # InputTypeError for a wrong type, InputError for a wrong value
    assert err.value.argument == "n" and str(err.value).startswith("n: ") and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)  # user code catching ValueError still catches bad input


@pytest.mark.parametrize("m,error", [
    (True, InputTypeError), ("2", InputTypeError), (None, InputTypeError), (1.5, InputError), (0, InputError),
    (-1, InputError), (float("nan"), InputError), (float("inf"), InputError), (2.0 ** 53, InputError),
    (1e300, InputError),
])
def test_bad_number_of_units(m, error):
    with pytest.raises(error) as err:
        Market.iid("uniform", 5, m)
    assert type(err.value) is error and err.value.argument == "m"
    with pytest.raises(error) as err:
        Market.iid("uniform", 5).with_units(m)
    assert err.value.argument == "m"


def test_good_sizes_are_normalised():
    """Whole floats become ints while exact; beyond 2^53 (the huge markets of the paper) n stays a float."""
    for n, expect in [(3, 3), (3.0, 3), (np.int64(7), 7), (np.float64(7.0), 7), (1e15, 10 ** 15), (1e30, 1e30),
                      (1e200, 1e200), (10 ** 30, 1e30)]:
        market = Market.iid("uniform", n)
        assert market.n == expect and type(market.n) is type(expect)
    market = Market.iid("uniform", 5, 3.0)
    assert market.m == 3 and type(market.m) is int
    assert Market.iid("uniform", 5).m == 1


def test_bad_distribution():
    with pytest.raises(InputError) as err:
        Market.iid("nosuch", 3)
    assert err.value.argument == "dist"
    with pytest.raises(InputTypeError) as err:
        Market.iid(3, 3)
    assert err.value.argument == "dist"
    with pytest.raises(InputError) as err:
        Market.iid("lomax:shape=-1", 3)
    assert err.value.argument == "shape"
    with pytest.raises(InputTypeError) as err:
        Market((), 1)
    assert err.value.argument == "classes"


def test_more_units_than_buyers_is_checked_where_a_mechanism_sells_them():
    """A Market may hold m > n (its buyers and its units are independent facts); a mechanism that sells the
    units refuses it (``Mechanism.market_for``), naming m."""
    market = Market.iid("uniform", 3, 4)
    for call in (lambda: SecondPrice().exact(market), lambda: parse_mechanism("lottery").rule(market),
                 lambda: parse_mechanism("vcg:m=5").exact(Market.iid("uniform", 3)),
                 lambda: benchmarks.opt(market), lambda: parse_mechanism("ks").exact(market)):
        with pytest.raises(InputError) as err:
            call()
        assert err.value.argument == "m" and "n = 3" in err.value.message
    assert SecondPrice(0, 3).exact(market).sold == pytest.approx(3.0)  # its own 3 units: fine


def test_mechanisms_take_a_market():
    d = parse_spec("uniform")
    for call in (lambda: SecondPrice().exact(d), lambda: SecondPrice().rule("uniform"),
                 lambda: parse_mechanism("ks").exact(d), lambda: benchmarks.opt(d)):
        with pytest.raises(InputTypeError) as err:  # the old (dist, n) API says what it wants now
            call()
        assert err.value.argument == "market" and "Market.iid" in err.value.message


def test_several_classes():
    """Asymmetric buyers are representable; a computation for i.i.d. buyers says so, naming the market."""
    market = Market((BuyerClass(Uniform(0, 1), 2), BuyerClass(Exponential(1.0), 3)), 2)
    assert market.n == 5 and not market.is_iid and market.m == 2
    assert market.label == "2*uniform:low=0,high=1 + 3*exponential:rate=1"
    with pytest.raises(InputError) as err:
        market.dist
    assert err.value.argument == "market"
    with pytest.raises(InputError) as err:  # an explicit bid space is defined for one class only
        parse_mechanism("ivickrey:bids=0-1/2").exact(market)
    assert err.value.argument == "market"
    # second price (VCG with m = 2) works on several classes: revenue 2 E[v_(3)] of the five buyers
    # (P[v_(3) >= t] = P[at least 3 of the 5 above t], the classes' counts binomial), by quadrature here
    def at_least_three(t):
        p_u, p_e = max(0.0, 1.0 - t), math.exp(-t)
        a = stats.binom.pmf(np.arange(3), 2, p_u)
        b = stats.binom.pmf(np.arange(4), 3, p_e)
        return sum(a[i] * b[j] for i in range(3) for j in range(4) if i + j >= 3)

    expected = 2 * (integrate.quad(at_least_three, 0, 1, epsabs=1e-13)[0]
                    + integrate.quad(at_least_three, 1, 60, epsabs=1e-13)[0])
    assert SecondPrice().exact(market).revenue == pytest.approx(expected, rel=1e-9)
    with pytest.raises(InputError) as err:
        BuyerClass(Uniform(0, 1), 0)
    assert err.value.argument == "n"


# ---------------------------------------------------------------------- immutable, equal by value
def test_market_is_immutable():
    market = Market.iid("uniform", 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        market.m = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        market.classes[0].count = 5
    with pytest.raises(TypeError):
        market.classes[0] = BuyerClass(Uniform(0, 1), 5)
    listed = Market([BuyerClass(Uniform(0, 1), 3)], 1)
    assert isinstance(listed.classes, tuple) and listed == market
    two = market.with_units(2)
    assert (two.m, market.m) == (2, 1) and two.dist is market.dist
    assert market.with_units(1) is market


def test_market_equality_and_hash_by_value():
    a = Market.iid("lomax:shape=2.8", 3)
    b = Market.iid(Lomax(2.8), 3.0)
    assert a is not b and a.dist is not b.dist
    assert a == b and hash(a) == hash(b)
    assert {a: "first"}[b] == "first"
    assert len({a, b, Market.iid(Lomax(shape=2.8, scale=1.0), 3)}) == 1
    for other in (Market.iid("lomax:shape=6", 3), Market.iid("lomax:shape=2.8", 4), Market.iid("lomax:shape=2.8", 3, 2),
                  Market.iid("lomax:shape=2.8,scale=2", 3), Market.iid(Lomax(np.nextafter(2.8, 3)), 3),
                  Market.iid("exponential", 3)):
        assert other != a
    assert a.with_units(2) == Market.iid("lomax:shape=2.8", 3, 2)
    assert Market.iid("example42", 1e6) == Market.iid(Example42(1e6), 1e6) != Market.iid("example42", 1e7)
    assert Market.iid("uniform", 1e30) == Market.iid("uniform", 10 ** 30)


@pytest.mark.parametrize("make,other", [
    (lambda: parse_spec(BIMODAL), lambda: parse_spec(BIMODAL.replace("0.5*", "0.4*", 1).replace("+0.5", "+0.6"))),
    (lambda: parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*exponential(rate=1)"),
     lambda: parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*exponential(rate=2)")),
    (lambda: parse_spec("scipy:gamma,a=2"), lambda: parse_spec("scipy:gamma,a=3")),
    (lambda: ScipyDistribution(stats.gamma(2.0)), lambda: ScipyDistribution(stats.gamma(2.0, scale=2.0))),
    (lambda: parse_spec("discrete:values=1/2/3,probs=0.5/0.3/0.2"),
     lambda: parse_spec("discrete:values=1/2/3,probs=0.5/0.2/0.3")),
    (lambda: Discrete.empirical([1.0, 1.0, 2.0]), lambda: Discrete.empirical([1.0, 2.0, 2.0])),
    (lambda: parse_spec("lomax:shape=2.8"), lambda: Lomax(2.8, scale=1.5)),
])
def test_distributions_hash_by_value(make, other):
    """Two separately built distributions with the same parameters are equal and hash alike (mixtures through
    their components, scipy laws through their family and parameters); any other parameter makes them differ."""
    a, b, c = make(), make(), other()
    assert a is not b
    assert a == b and hash(a) == hash(b) and not (a != b)
    assert a != c and c != a
    assert Market.iid(a, 3) == Market.iid(b, 3) != Market.iid(c, 3)
    assert hash(Market.iid(a, 3)) == hash(Market.iid(b, 3))


def test_mixture_built_directly_equals_the_parsed_one():
    parsed = parse_spec(BIMODAL)
    built = Mixture([Uniform(0.0, 1.0), Uniform(2.0, 3.0)], [0.5, 0.5])
    assert built == parsed and hash(built) == hash(parsed)


def test_same_name_other_class_is_another_distribution():
    """Value equality includes the class itself: a class of the same name with another value function (a
    notebook cell run again) must not share the cached results of the first."""
    def make(shift):
        class Shifted(Uniform):
            def _v(self, q):
                return super()._v(q) + shift

        return Shifted

    first, second = make(0.0), make(1.0)
    assert first.__name__ == second.__name__ and first.__qualname__ == second.__qualname__
    a, b = first(0.0, 1.0), second(0.0, 1.0)
    assert a != b and Market.iid(a, 2) != Market.iid(b, 2)
    assert a == first(0.0, 1.0)
    # the cached benchmarks follow the class: E[max of 2 uniforms] = 2/3, shifted by 1
    assert benchmarks.opt(Market.iid(a, 2)) == pytest.approx(2 / 3, rel=1e-12)
    assert benchmarks.opt(Market.iid(b, 2)) == pytest.approx(5 / 3, rel=1e-12)


# ---------------------------------------------------------------------- the market's units
@pytest.mark.parametrize("n", [4, 10, 1000, 1e30])
def test_spa_on_a_market_with_three_units_is_vcg(n):
    """``spa`` sells the market's m = 3 units: the VCG auction. Exp(1): the i-th highest of n values has mean
    H_n - H_{i-1} (Rényi), so the welfare is the sum of the top 3 and the revenue 3 times the 4th highest."""
    market = Market.iid("exponential:rate=1", n, 3)
    h_n = H(n) if n < 1e6 else math.log(n) + 0.5772156649015329 + 1 / (2 * n)
    top = [h_n - H(i - 1) for i in range(1, 5)]
    spa = parse_mechanism("spa").exact(market)
    vcg = parse_mechanism("vcg:m=3").exact(Market.iid("exponential:rate=1", n))
    for x, y in ((spa.revenue, vcg.revenue), (spa.surplus, vcg.surplus), (spa.welfare, vcg.welfare),
                 (spa.sold, vcg.sold)):
        assert x == pytest.approx(y, rel=1e-14)
    assert spa.welfare == pytest.approx(sum(top[:3]), rel=1e-12)
    assert spa.revenue == pytest.approx(3 * top[3], rel=1e-12)
    assert spa.sold == pytest.approx(3.0, rel=1e-12)
    assert benchmarks.opt(market) == pytest.approx(sum(top[:3]), rel=1e-12)
    # a mechanism's own m wins over the market's: vcg:m=2 sells the top 2 of the same buyers
    assert parse_mechanism("vcg:m=2").exact(market).welfare == pytest.approx(sum(top[:2]), rel=1e-12)


def test_top_three_by_quadrature():
    """Uniform[0,1], n = 7, m = 3: E[sum of the top 3] by integrating each order statistic's density."""
    n, m = 7, 3
    expect = sum(integrate.quad(lambda x: x * stats.beta.pdf(x, n + 1 - i, i), 0, 1, epsrel=1e-13)[0]
                 for i in range(1, m + 1))
    market = Market.iid("uniform", n, m)
    assert parse_mechanism("spa").exact(market).welfare == pytest.approx(expect, rel=1e-11)
    assert benchmarks.opt(market) == pytest.approx(expect, rel=1e-11)


# ---------------------------------------------------------------------- the wrong-cache regression
def _clear_value_caches():
    """Empty every cache of ``mechanisms`` (all keyed by value), so that nothing holds the first market."""
    for info in pkgutil.iter_modules(mechanisms.__path__):
        module = importlib.import_module(f"mechanisms.{info.name}")
        for obj in list(vars(module).values()):
            if callable(getattr(obj, "cache_clear", None)):
                obj.cache_clear()


def _rebuilt_at(address, make, tries=10_000):
    """make() until the new object sits at ``address`` (CPython reuses a freed object's memory), else the last."""
    keep = []
    for _ in range(tries):
        obj = make()
        if id(obj) == address:
            return obj
        keep.append(obj)
    return obj


def _ks_fair(revenue, surplus, dist, n):
    """Π/Π* - U/U* with independent Π*, U* for a Lomax market (regular, anti-MHR, v(1) = 0): Π* is the
    second-price auction with the monopoly reserve v(q_m) (Myerson), U* the second-price surplus (Lemma C.2);
    both by quadrature over the top two order statistics' quantile densities."""
    a = dist.shape
    v = lambda q: q ** (-1 / a) - 1  # noqa: E731
    q_m = ((a - 1) / a) ** a  # R(q) = q^(1-1/a) - q is largest there
    # Π* = n ∫_0^{q_m} (1-q)^(n-1) R'(q) dq; U(SPA) = E[v_(1)] - E[v_(2)]
    R_prime = lambda q: (1 - 1 / a) * q ** (-1 / a) - 1  # noqa: E731
    pi_star = n * integrate.quad(lambda q: (1 - q) ** (n - 1) * R_prime(q), 0, q_m, epsrel=1e-13, limit=200)[0]
    e1 = integrate.quad(lambda q: v(q) * stats.beta.pdf(q, 1, n), 0, 1, epsrel=1e-13, limit=200)[0]
    e2 = integrate.quad(lambda q: v(q) * stats.beta.pdf(q, 2, n - 1), 0, 1, epsrel=1e-13, limit=200)[0]
    return revenue / pi_star - surplus / (e1 - e2)


def test_one_mechanism_object_on_two_markets():
    """The issue: ONE ``ks`` object on lomax:shape=2.8 then lomax:shape=6 (n = 3) must give what fresh objects
    give (the issue saw the first market's solution reused for the second). Each answer is the KS point of its
    own market: Π/Π* = U/U* with Π*, U* computed here."""
    n = 3
    specs = ("lomax:shape=2.8", "lomax:shape=6")
    fresh = [parse_mechanism("ks").exact(Market.iid(spec, n)) for spec in specs]
    assert fresh[0].revenue != pytest.approx(fresh[1].revenue, rel=0.1)
    one = parse_mechanism("ks")
    got = [one.exact(Market.iid(spec, n)) for spec in specs]
    for g, f, spec in zip(got, fresh, specs):
        assert (g.revenue, g.surplus) == (pytest.approx(f.revenue, rel=1e-12), pytest.approx(f.surplus, rel=1e-12))
        assert _ks_fair(g.revenue, g.surplus, parse_spec(spec), n) == pytest.approx(0.0, abs=1e-6), spec
    # and in the other order, on the same object
    assert one.exact(Market.iid(specs[0], n)).revenue == pytest.approx(fresh[0].revenue, rel=1e-12)


def test_second_market_at_the_first_ones_address():
    """The same with the second distribution (and market) built where the first one was freed, so a cache
    keyed by id() would hand back the first market's solution (``tests/test_market.py`` run on the
    pre-refactor code in its old API fails this way: 0.2161 instead of 0.1631)."""
    n = 3
    fresh = parse_mechanism("ks").exact(Market.iid(Lomax(6.0), n))
    one = parse_mechanism("ks")
    dist = Lomax(2.8)
    first = Market.iid(dist, n)
    before = one.exact(first)
    assert _ks_fair(before.revenue, before.surplus, dist, n) == pytest.approx(0.0, abs=1e-6)
    addresses = id(dist), id(first.classes[0]), id(first)
    _clear_value_caches()
    del first, dist  # the distribution last: its memory is the next one handed out
    dist = _rebuilt_at(addresses[0], lambda: Lomax(6.0))
    buyers = _rebuilt_at(addresses[1], lambda: BuyerClass(dist, n))
    second = _rebuilt_at(addresses[2], lambda: Market((buyers,), 1))
    assert second == Market.iid("lomax:shape=6", n)
    after = one.exact(second)
    assert after.revenue == pytest.approx(fresh.revenue, rel=1e-12)
    assert after.surplus == pytest.approx(fresh.surplus, rel=1e-12)
    assert _ks_fair(after.revenue, after.surplus, dist, n) == pytest.approx(0.0, abs=1e-6)


def _identity_calls(path: pathlib.Path, root: pathlib.Path = ROOT) -> list[str]:
    """``id(...)`` calls of the builtin in a module (by its syntax tree, so ``grid(`` or comments don't count)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [f"{path.relative_to(root)}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id"]


def test_no_cache_keyed_by_object_identity():
    """No module of the library keys anything by id(): a freed object's id is reused by the next one."""
    files = [path for folder in ("distributions", "mechanisms", "simulator")
             for path in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 20
    found = [hit for path in files for hit in _identity_calls(path)]
    assert found == []


def test_identity_scan_finds_id_calls(tmp_path):
    """The scan above can fail: it finds the pre-refactor ``key = (id(dist), float(n))``."""
    sample = tmp_path / "bargaining.py"
    sample.write_text("def solution(self, dist, n):\n    grid(dist)  # id(dist) in a comment\n"
                      "    key = (id(dist), float(n))\n    return key\n")
    assert _identity_calls(sample, tmp_path) == ["bargaining.py:3"]


# ---------------------------------------------------------------- several classes, trade, partnership
def test_several_classes_from_specs_and_pairs():
    from distributions import parse_spec

    a = Market.from_specs(["2*uniform:high=1", "1e6*exponential"])
    b = Market.of((parse_spec("uniform:high=1"), 2), ("exponential", 1e6))
    assert a == b and hash(a) == hash(b) and len(a.classes) == 2
    assert a.classes[0].count == 2 and a.classes[1].count == 1_000_000 and a.n == 1_000_002
    assert Market.from_specs(["uniform"]).classes[0].count == 1  # a bare spec is one buyer
    with pytest.raises(InputError) as info:
        a.dist
    assert info.value.argument == "market"


@pytest.mark.parametrize("specs", [["0*uniform"], ["2.5*uniform"], ["2*nope"], [""], [3]])
def test_bad_buyer_specs_are_input_errors(specs):
    with pytest.raises(InputError):
        Market.from_specs(specs)


def test_trade_and_partnership_markets():
    from distributions import parse_spec

    F, G = parse_spec("uniform"), parse_spec("exponential")
    t = Market.trade(F, G)
    assert t.dist == F and t.seller == G and t.n == 1 and t != Market.iid(F, 1)
    p = Market.partnership(F, (0.7, 0.3))
    assert p.n == 2 and p.shares == (0.7, 0.3) and p == Market.partnership(F, [0.7, 0.3])
    for shares, match in (((0.7, 0.2), "sum to 1"), ((1.2, -0.2), ">= 0"), ((1.0,), "at least two"),
                          ((0.5, float("nan"), 0.5), ">= 0")):
        with pytest.raises(InputError, match=match) as info:
            Market.partnership(F, shares)
        assert info.value.argument == "shares"
    with pytest.raises(TypeError):
        Market.trade(F, "uniform")
