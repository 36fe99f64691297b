"""The generic Monte Carlo driver of the new families (simulator/core/draws.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from distributions.errors import InputError
from simulator.core.draws import simulate_draws


def _uniform_pair(rng, size):
    """Two 'mechanisms' on the same uniforms: U (mean 1/2) and U + U^2 (mean 1/2 + 1/3)."""
    u = rng.random(size)
    return {"a": {"x": u, "one": np.ones(size)}, "b": {"x": u + u * u}}


def test_means_inside_their_cis_and_exact_z():
    res = simulate_draws(_uniform_pair, samples=200_000, seed=3, exact={"a": {"x": 0.5}, "b": {"x": 0.5 + 1 / 3}})
    for mech, exact in (("a", 0.5), ("b", 0.5 + 1 / 3)):
        est, err = res.estimate(mech, "x")
        assert err > 0 and abs(est - exact) < 4 * err
        assert res.z(mech, "x") == pytest.approx((est - exact) / err)
    # the paired difference b - a = U^2 has mean 1/3 and a far smaller error than the two rows' errors summed
    diff = res.paired("b", "a", "x")
    assert abs(diff["estimate"] - 1 / 3) < 4 * diff["stderr"]
    assert diff["stderr"] < res.estimate("b", "x")[1]
    # a constant metric: zero standard error, min = max = 1
    assert res.estimate("a", "one") == (1.0, 0.0)
    assert res.minimum("a", "one") == res.maximum("a", "one") == 1.0
    assert 0.0 <= res.minimum("a", "x") < 1e-4 and 1 - 1e-4 < res.maximum("a", "x") < 1.0


def test_same_seed_same_numbers_and_chunks_fixed():
    one = simulate_draws(_uniform_pair, samples=100_001, seed=7, chunk=10_000)
    two = simulate_draws(_uniform_pair, samples=100_001, seed=7, chunk=10_000)
    other = simulate_draws(_uniform_pair, samples=100_001, seed=8, chunk=10_000)
    assert one.to_dict() == two.to_dict()
    assert one.estimate("a", "x") != other.estimate("a", "x")
    assert one.samples == 100_001


def test_rows_flag_invalid_cis_and_keep_inf():
    res = simulate_draws(_uniform_pair, samples=10, seed=0, exact={"a": {"x": math.inf}},
                         notes={"b": {"x": "heavy tail"}})
    rows = {(r["mechanism"], r["metric"]): r for r in res.to_dict()["results"]}
    assert not rows["a", "x"]["ci_valid"] and "10 samples" in rows["a", "x"]["ci_note"]
    assert rows["a", "x"]["analytic"] == "inf" and rows["a", "x"]["ci_low"] is None
    big = simulate_draws(_uniform_pair, samples=1000, seed=0, notes={"b": {"x": "heavy tail"}})
    row = big.row("b", "x")
    assert row["ci_note"] == "heavy tail" and row["ci_low"] is None and row["z"] is None
    assert big.row("a", "x")["ci_valid"]
    assert not big.frame.isna().all(axis=None)


def test_interrupt_keeps_finished_chunks():
    calls = []

    def outcome(rng, size):
        calls.append(size)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return {"a": {"x": rng.random(size)}}

    res = simulate_draws(outcome, samples=50_000, seed=0, chunk=10_000)
    assert res.partial and res.samples == 20_000 and res.to_dict()["partial"] is True


@pytest.mark.parametrize("kwargs, argument", [({"samples": 0}, "samples"), ({"samples": 10, "seed": -1}, "seed"),
                                              ({"samples": 10, "confidence": 1.5}, "confidence")])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(InputError) as info:
        simulate_draws(_uniform_pair, **kwargs)
    assert info.value.argument == argument


def test_nan_from_a_rule_is_an_error():
    with pytest.raises(InputError, match="NaN"):
        simulate_draws(lambda rng, size: {"a": {"x": np.full(size, np.nan)}}, samples=10)


def test_pair_comoments_kernel_against_numpy():
    """The serial co-moment kernel equals the matrix product d^T d on the listed pairs (same-metric pairs only)."""
    from simulator.core.draws import same_metric_pairs
    from simulator.kernels.moments import pair_comoments

    d = np.random.default_rng(5).normal(size=(1000, 4))
    keys = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    first, second = same_metric_pairs(keys)
    assert sorted(zip(first.tolist(), second.tolist())) == [(0, 0), (1, 1), (2, 0), (2, 2), (3, 1), (3, 3)]
    full = d.T @ d
    np.testing.assert_allclose(pair_comoments(d, first, second), full[first, second], rtol=1e-12)
