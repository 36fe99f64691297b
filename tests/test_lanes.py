"""The profile scan in lanes (``simulator/kernels/lanes.py``, issue 18) draws exactly what the serial scan draws.

Three checks: a segment's stored scans against the serial stream sorted by numpy; the chunk kernels' numbers,
bit for bit, against fingerprints recorded from the kernels before lanes existed (the serial scan of the
previous main, on rule sets and chunk sizes that now run in lanes with a serial tail); and which rule sets
``lane_plan`` sends to the lanes.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from distributions import parse_spec
from distributions.kernels import v_array
from mechanisms.rule import MixtureRule, QuantileRule
from simulator.kernels import lanes, rng
from simulator.kernels.compiled import compile_rules, distinct_rules
from simulator.kernels.jump import jump_poly
from simulator.kernels.profile import profile_batch, profile_chunk


def spa(r=1.0, reserve=0.0, m=1):
    return QuantileRule(m, r, reserve)


def lottery(m=1):
    return QuantileRule(m, 1.0, 0.0, [0.0], [1.0], [0.0], [math.inf])


@pytest.mark.parametrize("n, P, spec", [(4, 3, "exponential:rate=1"), (10, 2, "uniform:low=0,high=2"),
                                         (33, 1, "pareto:shape=3,scale=1")])
def test_segment_is_the_serial_stream(n, P, spec):
    """Auction l P + t of a segment = lane l's t-th = auction l P + t of the serial stream: its two smallest
    uniforms, buyer 0's, their values, and the stream left where the serial scan would leave it."""
    start = rng.chunk_states(3, 1, 1)[0]
    st = start.copy()
    scans = lanes.lane_scratch(P)
    kind, params = parse_spec(spec).numba_spec()
    lanes.lane_segment(st, P, n, jump_poly(P * n), scans, kind, params, True)
    serial = start.copy()
    u = rng.uniforms(serial, lanes.LANES * P * n).reshape(lanes.LANES * P, n)
    expected = np.column_stack([np.sort(u, axis=1)[:, :2], u[:, 0]])
    np.testing.assert_array_equal(scans[:, :3], expected)
    np.testing.assert_array_equal(scans[:, 3:], v_array(kind, params, expected.ravel()).reshape(-1, 3))
    np.testing.assert_array_equal(st, serial)


@pytest.mark.parametrize("n", [16, 83, 1000])
def test_auction_split_among_lanes_is_the_serial_stream(n):
    """One auction's buyers split among the lanes (m = n // LANES each, the rest after the last lane): the two
    smallest uniforms, buyer 0's, their values, and the stream left where the serial scan would leave it."""
    start = rng.chunk_states(4, 2, 1)[0]
    st = start.copy()
    scans = np.empty((1, 6))
    kind, params = parse_spec("exponential:rate=1").numba_spec()
    poly = jump_poly(n // lanes.LANES)
    for _ in range(3):  # three auctions in a row
        serial = st.copy()
        u = rng.uniforms(serial, n)
        lanes.auction_in_lanes(st, n, poly, kind, params, True, scans)
        expected = np.array([*np.sort(u)[:2], u[0]])
        np.testing.assert_array_equal(scans[0, :3], expected)
        np.testing.assert_array_equal(scans[0, 3:], v_array(kind, params, expected))
        np.testing.assert_array_equal(st, serial)


#: one-unit rule sets whose profile scan runs in lanes: second price, reserves, the lottery, a mixture
LANE_RULES = {
    "exponential:rate=1": [spa(), spa(r=0.36787944832421476, reserve=0.9999999805567489), lottery(),
                           MixtureRule([0.3, 0.7], [spa(r=0.5, reserve=0.6931471805599453), lottery()])],
    "uniform:low=0,high=2": [spa(), spa(r=0.5, reserve=1.0)],
    "pareto:shape=3,scale=1": [lottery(), spa(r=0.2, reserve=1.7099759466766968)],
}
LANE_ONE = 40_003
LANE_BATCH = (33_000, 17_001, 200)
#: sha-256 (first 16 hex digits) of (means, co-moments) of one chunk of LANE_ONE auctions and of a batch of
#: LANE_BATCH, recorded from the serial kernels of the main branch before lanes (commit 9fe2edb), x86-64 Linux
LANE_GOLDEN = {
    ("exponential:rate=1", 10): ("c2d36776cb2be1e1", "cb7366c53349a09e"),
    ("exponential:rate=1", 1000): ("6034b1c180a86c33", "1029cd57b3ff92e8"),
    ("uniform:low=0,high=2", 4): ("893e65c15c05c737", "fa82b36d2a44535f"),
    ("pareto:shape=3,scale=1", 37): ("b6e12f0eee77ff5a", "e64f1e41bd7a4ac2"),
}


def _fingerprint(*arrays) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


#: the same for chunks of fewer than LANES auctions of n >= AUCTION_LANES_N buyers, each auction split among the
#: lanes (one chunk of 7 auctions, a batch of 5, 2 and 1; 65541 = 16 x 4096 + 5 buyers)
SPLIT_GOLDEN = {
    ("exponential:rate=1", 65541): ("0bf8503eab784c2a", "124fe3889809db03"),
    ("uniform:low=0,high=2", 16384): ("d7281baf5ba6c42e", "fcf9c731fd46f9c0"),
}


@pytest.mark.parametrize("spec, n, sizes", [(*key, (LANE_ONE, LANE_BATCH)) for key in LANE_GOLDEN]
                         + [(*key, (7, (5, 2, 1))) for key in SPLIT_GOLDEN])
def test_lane_kernels_bit_identical_to_the_serial_scan(spec, n, sizes):
    rules = compile_rules(LANE_RULES[spec])
    kind, params = parse_spec(spec).numba_spec()
    one_size, batch = sizes
    assert lanes.lane_plan(one_size, n, 2, rules)[1] > 0 or n >= lanes.AUCTION_LANES_N  # it does run in lanes
    one = _fingerprint(*profile_chunk(rng.chunk_state(5, 2), one_size, rules, kind, params, n))
    three = _fingerprint(*profile_batch(rng.chunk_states(13, 0, 3), np.array(batch), rules, kind, params, n))
    assert (one, three) == {**LANE_GOLDEN, **SPLIT_GOLDEN}[spec, n]


@pytest.mark.parametrize("rule_set, n, cap, runs", [
    ([spa(), lottery()], 10, 2, True),
    ([spa(r=0.3, reserve=1.0)], 4, 2, True),
    ([spa(), lottery()], 2, 2, True),
    ([spa(), lottery()], 1, 1, False),  # one buyer: one order statistic
    ([spa(m=2)], 10, 3, False),  # two units: three order statistics
    ([spa(), QuantileRule(1, 1.0, 0.0, [0.0], [0.5], [0.0], [math.inf])], 10, 2, False),  # a pool (0, 1/2]
])
def test_lane_plan(rule_set, n, cap, runs):
    """Lanes take one unit (cap = 2) with no pool or only pools holding every buyer; the segments cover all but
    fewer than LANES x segments auctions."""
    rules = compile_rules(rule_set)
    for size in (15, 16, 1000, 16_384, 100_001):
        P, segments = lanes.lane_plan(size, n, cap, rules)
        if not runs or size < lanes.LANES:
            assert (P, segments) == (0, 0)
            continue
        assert P >= 1 and segments >= 1
        assert 0 <= size - segments * lanes.LANES * P < lanes.LANES * segments


def test_distinct_rules_map_back():
    """Equal rules (to the bit) share a column; different ones, however close, do not."""
    rules = [spa(), lottery(), spa(), spa(r=0.5, reserve=1.0), MixtureRule([0.5, 0.5], [spa(), lottery()]),
             spa(r=0.5, reserve=1.0 + 2e-16), MixtureRule([0.5, 0.5], [spa(), lottery()])]
    distinct, index = distinct_rules(rules)
    assert index.tolist() == [0, 1, 0, 2, 3, 4, 3]
    assert all(distinct[index[k]] is rules[k] or index[k] < k for k in range(len(rules)))


def test_duplicate_mechanisms_run_once_with_the_same_numbers():
    """A run with a mechanism three times gives each copy the numbers of a run with it once, bit for bit, and the
    copies' covariance is their variance."""
    from distributions import Market
    from simulator import simulate

    market = Market.iid("exponential:rate=1", 10)
    once = simulate(["spa", "lottery"], market, samples=20_000, seed=3, exact=False, benchmarks=False)
    many = simulate(["spa", "lottery", "spa", "spa"], market, samples=20_000, seed=3, exact=False,
                    benchmarks=False)
    idx = [0, 1, 0, 0]
    np.testing.assert_array_equal(many.moments.mean, once.moments.mean[:, idx])
    np.testing.assert_array_equal(many.moments.comoment, once.moments.comoment[:, idx][:, :, idx])


@pytest.mark.parametrize("n, samples", [(10, 200_000), (100_000, 3_000)])
def test_lanes_against_exact_values(n, samples):
    """Through ``simulate``: n = 10 (segments in lanes) and n = 1e5 (chunks of 11 auctions, each auction split
    among the lanes), second price, the monopoly reserve and the lottery on exponential values, every metric
    within 4 standard errors of its exact value (``Mechanism.exact``)."""
    from distributions import Market
    from simulator import simulate

    res = simulate(["spa", "spa:reserve=monopoly", "lottery"], Market.iid("exponential:rate=1", n),
                   samples=samples, seed=17, mode="profile", benchmarks=False)
    rows = res.frame.dropna(subset=["analytic"])
    assert len(rows) == 12
    assert (abs(rows.estimate - rows.analytic) < 4 * rows.stderr + 1e-12).all(), rows[["mechanism", "metric", "z"]]
