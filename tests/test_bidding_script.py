"""scripts/revenue_equivalence.py --quick: writes its CSVs, PNG and provenance; the symmetric formats' exact
revenues equal second price's and its closed form E[second-highest value] ((n-1)/(n+1) for U[0,1],
sum_{k=2}^n 1/k for Exp(1)) to 1e-9; the asymmetric rows against second price's closed forms."""
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("revenue_equivalence")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "revenue_equivalence.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_files_and_provenance(quick):
    for name in ("revenue_equivalence_symmetric.csv", "revenue_equivalence_asymmetric.csv",
                 "revenue_equivalence.png", "provenance.json"):
        assert (quick / name).stat().st_size > 0, name
    assert (quick / "revenue_equivalence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    prov = json.loads((quick / "provenance.json").read_text())
    assert prov["quick"] is True and prov["seed"] == 0 and "--quick" in prov["command_line"]


def test_symmetric_rows_equal(quick):
    sym = pd.read_csv(quick / "revenue_equivalence_symmetric.csv")
    assert set(sym.format) == {"first-price", "all-pay", "third-price", "spa"}
    for (spec, n), d in sym.groupby(["distribution", "n"]):
        n = int(n)
        # second price earns E[second-highest value]: (n-1)/(n+1) for U[0,1]; sum_{k=2}^n 1/k for Exp(1)
        closed = (n - 1) / (n + 1) if spec.startswith("uniform") else sum(1 / k for k in range(2, n + 1))
        assert (d.exact_revenue - closed).abs().max() < 1e-9, (spec, n)
        assert d.ci_valid.all() and (d.z.abs() < 4).all(), d
    assert sym.difference.abs().max() < 1e-9


def test_asymmetric_rows(quick):
    asym = pd.read_csv(quick / "revenue_equivalence_asymmetric.csv")
    w = asym.omega
    # second price, V1 ~ U[0,1], V2 ~ U[0,w], w >= 1: revenue E[min] = 1/2 - 1/(6w), welfare E[max] = w/2 + 1/(6w)
    assert (asym.spa_revenue - (0.5 - 1 / (6 * w))).abs().max() < 1e-12
    assert (asym.spa_welfare - (w / 2 + 1 / (6 * w))).abs().max() < 1e-12
    sym_row = asym[w == 1.0].iloc[0]
    assert abs(sym_row.revenue_difference) < 1e-9 and abs(sym_row.efficiency_loss) < 1e-9
    strong = asym[w >= 2.0]
    assert (strong.revenue_difference > 0.03).all() and (strong.efficiency_loss > 0.01).all()
    assert (strong.difference_ci_low > 0).all()
    assert (asym.fpa_revenue_z.abs() < 4).all() and (asym.spa_revenue_z.abs() < 4).all()


def test_asymmetric_first_price_against_closed_form(quick):
    """First price for U[0,1] vs U[0,w] from Krishna's closed form (§4.3), integrated here: b̄ = w/(1+w),
    φ_1 = 2b/(1 + k b²), φ_2 = 2b/(1 - k b²), k = 1 - 1/w²; H(b) = φ_1 φ_2 / w; revenue b̄ - ∫ H db;
    P(weak wins) = ∫ (φ_2(b)/w) φ_1'(b) db."""
    from scipy import integrate

    asym = pd.read_csv(quick / "revenue_equivalence_asymmetric.csv")
    for _, row in asym.iterrows():
        w = row.omega
        k, top = 1 - 1 / w ** 2, w / (1 + w)
        phi1 = lambda b: 2 * b / (1 + k * b * b)  # noqa: E731
        phi2 = lambda b: 2 * b / (1 - k * b * b)  # noqa: E731
        dphi1 = lambda b: 2 * (1 - k * b * b) / (1 + k * b * b) ** 2  # noqa: E731
        revenue = top - integrate.quad(lambda b: phi1(b) * phi2(b) / w, 0, top, epsabs=1e-13)[0]
        weak = integrate.quad(lambda b: phi2(b) / w * dphi1(b), 0, top, epsabs=1e-13)[0]
        assert row.fpa_revenue == pytest.approx(revenue, abs=1e-8), w
        assert row.fpa_win_weak == pytest.approx(weak, abs=1e-8), w
