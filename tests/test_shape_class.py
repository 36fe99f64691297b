"""Shape classes with atoms and gaps (Definition 2.2 and Proposition 2.1 of the paper; ``_shape_class``).

The expectations are derived here from the definitions, not read off the code:

* hazard rate phi(v) = f(v) / (1 - F(v)) with the paper's left-continuous F(v) = Pr[v < t]; MHR: phi
  non-decreasing in v, anti-MHR: phi non-increasing (Definition 2.2). In quantile space g(q) = q v'(q) =
  -1 / phi(v(q)): MHR iff g non-increasing in q, anti-MHR iff g non-decreasing (Proposition 2.1); regular iff
  R(q) = q v(q) concave.
* An atom of mass m at t has 1 - F(t) >= m > 0 and a point mass in f: phi has a spike (+inf) at t, and v is flat
  over the atom's quantiles (g = 0 there). A gap (t1, t2) in the support has f = 0 and 1 - F > 0: phi = 0 on it,
  and v jumps (g = -inf at one quantile).
* Since v is non-increasing, g <= 0. An atom at the top puts g = 0 on (0, m] before g <= 0: non-increasing,
  so MHR survives (phi jumps up at v_H -- the paper calls Example 4.2, with its atom of mass n^(-1/4) at K,
  "MHR"), while non-decreasing would need g = 0 everywhere: a top atom breaks anti-MHR. An interior atom
  (g < 0, 0, < 0) or a gap (finite, -inf, finite) breaks both; an atom at the bottom (g <= 0, then 0) breaks
  MHR only.
"""
import numpy as np
import pandas as pd
import pytest

from distributions import parse_spec

GAP_MIX = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"


def classes(spec):
    c = parse_spec(spec).shape_class()
    return c.regular, c.mhr, c.anti_mhr


def test_equal_revenue_with_its_top_atom_is_regular_but_not_anti_mhr():
    """F(v) = 1 - 1/v on [1, 100), atom 1/100 at 100. Continuous part: phi = (1/v^2) / (1/v) = 1/v, decreasing
    (anti-MHR, not MHR); the atom is a spike of phi at the top, after a decreasing phi: not anti-MHR. R(q) =
    100 q on [0, 1/100], then 1: concave, regular. (The old code skipped the atom and said anti-MHR.)"""
    d = parse_spec("equal-revenue:high=100")
    assert classes("equal-revenue:high=100") == (True, False, False)
    assert "top" in d.shape_class().note and "continuous part is anti-MHR" in d.shape_class().note
    # the continuous part alone is anti-MHR, from the value-space hazard rate: the atom decides
    x = np.linspace(1.0, 99.0, 200)
    phi = d.pdf(x) / d.sf(x)
    assert np.allclose(phi, 1 / x, rtol=1e-12) and np.all(np.diff(phi) < 0)
    assert d.sf(100.0) == pytest.approx(0.01, rel=1e-12)  # Pr[v >= 100]: the atom


@pytest.mark.parametrize("n", [100, 1e30])
def test_example42_with_its_top_atom_is_mhr(n):
    """Example 4.2: F = 1 - exp(-v^2) on [0, K), atom n^(-1/4) at K: phi = 2v increasing, then the spike at K
    (an increase): MHR, as the paper says; not anti-MHR (phi increases). R = q sqrt(-ln q) below the atom is
    concave and R = K q on the atom: regular (MHR implies regular)."""
    assert classes(f"example42:n={n:g}") == (True, True, False)


@pytest.mark.parametrize("spec,expected", [
    ("exponential", (True, True, True)),  # phi = rate, constant: both; v = -ln q, g = -1 constant
    ("uniform", (True, True, False)),  # phi = 1/(1 - v) increasing; g = -q decreasing
    ("lomax:shape=3", (True, False, True)),  # phi = 3/(1 + v) decreasing; R = q^(2/3) - q concave
    ("pareto:shape=2", (True, False, True)),  # phi = 2/v decreasing on [1, inf); R = sqrt(q) concave
])
def test_atomless_families(spec, expected):
    assert classes(spec) == expected
    assert parse_spec(spec).shape_class().note == ""


def test_discrete_distribution_is_general():
    """values 1/2/3: a top atom (not anti-MHR), an interior atom and two gaps (neither), a bottom atom (not
    MHR); R = q v jumps down at each gap, so it is not concave either."""
    assert classes("discrete:values=1/2/3,probs=0.2/0.3/0.5") == (False, False, False)


def test_mixture_with_a_gap_is_neither_mhr_nor_anti_mhr():
    """U[0,1] and U[2,3] half and half: phi = 0 on the gap (1, 2) between positive values on either side."""
    assert classes(GAP_MIX) == (False, False, False)
    assert "gap" in parse_spec(GAP_MIX).shape_class().note


def test_interior_atom_breaks_both():
    """U[0,2] with weight 1/2 and an atom 1/2 at 1: phi = 0.25/(1 - F) finite on either side of the spike at 1.
    R = 2q - 4q^2 on [0, 1/4] (v = 2 - 4q, slope 2 - 8q, 0 at q = 1/4), then slope v = 1 on the atom: not
    concave."""
    spec = "mixture:0.5*uniform(low=0;high=2)+0.5*discrete(values=1;probs=1)"
    assert classes(spec) == (False, False, False)
    assert "interior atom" in parse_spec(spec).shape_class().note


def test_top_atom_on_an_mhr_part_keeps_mhr():
    """U[0,1) with density 1/2 and an atom 1/2 at 1: phi = 0.5/(1 - v/2) increasing, then the spike at 1: MHR,
    not anti-MHR. v = 1 on (0, 1/2], 2(1 - q) after: R = q, then 2q(1 - q), slopes 1 then 2 - 4q <= 0:
    concave. (A mixture: its atom comes through the generic ``atoms_q``, with rounding.)"""
    spec = "mixture:0.5*uniform(low=0;high=1)+0.5*discrete(values=1;probs=1)"
    assert classes(spec) == (True, True, False)


def test_bottom_atom_keeps_anti_mhr_breaks_mhr():
    """Exponential(1) with weight 1/2 and an atom 1/2 at 0: the spike of phi at v_L = 0, then phi = 1 (constant):
    non-increasing, not non-decreasing. R = q ln(1/(2q)) on (0, 1/2] then 0: slope -1, then 0: not regular."""
    spec = "mixture:0.5*exponential+0.5*discrete(values=0;probs=1)"
    assert classes(spec) == (False, False, True)


def test_point_mass_is_answered():
    """One atom holding everything: v constant, g = 0 (both monotone), R = q v linear (concave). The old code
    raised on it (its grid started above q = 1)."""
    assert classes("discrete:values=1,probs=1") == (True, True, True)


def test_table1_notes_hold_equal_revenue_to_the_universal_bounds_only():
    """scripts/table1.py: equal-revenue is held to the universal bounds; its cells under the anti-MHR bounds are
    listed for reference with the bound n/(n+1) or (n-1)/n, and the cause named is the top atom."""
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "table1.py")
    spec = importlib.util.spec_from_file_location("table1_under_test", path)
    table1 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table1)
    rows = [dict(distribution="equal-revenue:high=100", shape="regular", n=100.0, solution=kind, welfare_ratio=w,
                 meets_bound=True, lowest_value=1.0, surplus_max_over_spa=1.65)
            for kind, w in (("ks", 0.97), ("nash", 0.995), ("cross-nash", 0.98))]
    rows.append(dict(distribution="pareto:shape=2", shape="regular, anti-MHR", n=100.0, solution="ks",
                     welfare_ratio=0.999, meets_bound=True, lowest_value=1.0, surplus_max_over_spa=1.0))
    text = "\n".join(table1.class_notes(pd.DataFrame(rows)))
    assert "not with anti-MHR" in text and "universal bounds only" in text
    assert f"ks n=100: 0.9700 < {100 / 101:.4f}" in text and f"cross-nash n=100: 0.9800 < {0.99:.4f}" in text
    assert "nash n=100: 0.9950" not in text  # above (n-1)/n = 0.99: not listed
    assert "top atom" in text and "pareto:shape=2 (v(1) > 0, anti-MHR: no top atom) met every bound" in text
