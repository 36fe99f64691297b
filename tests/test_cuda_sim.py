"""CUDA backend (issue 8) without a GPU: numba's CUDA simulator runs the kernels in a subprocess
(NUMBA_ENABLE_CUDASIM=1 must be set before numba.cuda is imported; ``cuda_sim_checks.py`` does the runs), at
sizes the simulator manages (a few thousand auctions). Expected values come from ``Mechanism.exact`` or, for
hand-built rules, from the CPU kernels; agreement is |z| < 4. The random streams are checked against
Random123's known answers for Philox4x32-10 and, bit for bit, against a numpy port of the counter layout.
Also: the clear errors without a GPU (API and CLI), and ``scripts/bench.py --backend cuda --quick`` under the
simulator."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from distributions import Market
from simulator import cli, simulate
from simulator.backends.cuda_backend import CudaChunkPlan, chunk_keys
from simulator.kernels.rng import chunk_states

ROOT = Path(__file__).resolve().parents[1]
Z_MAX = 4.0
SIM_ENV = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
#: Random123 kat_vectors, philox4x32 10: output words of KAT in cuda_sim_checks.py
KAT_OUT = [["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"], ["408f276d", "41c83b0e", "a20bc7c6", "6d5451fd"],
           ["d16cfe09", "94fdcceb", "5001e420", "24126ea1"]]


@pytest.fixture(scope="module")
def sim():
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "cuda_sim_checks.py")], cwd=ROOT, env=SIM_ENV,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def philox_np(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 in numpy (uint64 lanes holding 32-bit words): the reference for the device code."""
    m0, m1, w0, w1, mask, s32 = (np.uint64(x) for x in (0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85,
                                                        0xFFFFFFFF, 32))
    c0, c1, c2, c3 = (np.asarray(x, dtype=np.uint64) for x in (c0, c1, c2, c3))
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0, p1 = c0 * m0, c2 * m1
        c0, c1, c2, c3 = (p1 >> s32) ^ c1 ^ k0, p1 & mask, (p0 >> s32) ^ c3 ^ k1, p0 & mask
        k0, k1 = (k0 + w0) & mask, (k1 + w1) & mask
    return c0, c1, c2, c3


def uniform_np(hi, lo):
    return (((hi << np.uint64(20)) | (lo >> np.uint64(12))).astype(np.float64) + 0.5) * 2.0 ** -52


def assert_rows_agree(rows, expected, label):
    """|z| < 4 against the expected values; an estimate without spread (se = 0) within 1% of them."""
    checked = 0
    for r in rows:
        want = expected(r)
        if want is None:
            continue
        checked += 1
        if r["stderr"] == 0:
            assert abs(r["estimate"] - want) <= 0.01 * max(1.0, abs(want)), (label, r, want)
        else:
            z = (r["estimate"] - want) / r["stderr"]
            assert abs(z) < Z_MAX, f"{label} {r['mechanism']} {r['metric']}: {r['estimate']} vs {want} (z={z:.2f})"
    assert checked >= len(rows) // 2, f"{label}: too few rows with expected values"


# ---------------------------------------------------------------------- random numbers
def test_philox_known_answers(sim):
    assert sim["simulator"] is True
    assert sim["kat"] == KAT_OUT


def test_numpy_port_matches_known_answers():
    out = philox_np(0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344, 0xA4093822, 0x299F31D0)
    assert [f"{int(w):08x}" for w in out] == KAT_OUT[2]


def test_uniforms_open_interval_and_streams(sim):
    lo, hi, near = (float.fromhex(x) for x in sim["uniform_extremes"])
    assert lo == 2.0 ** -53 and hi == 1.0 - 2.0 ** -53 and near == 1.0 - 2.0 ** -53  # never 0, never 1
    # the kernel's sample: Philox blocks (j, 7, 0, 0) under the key of chunk 0 of seed 5, both halves
    sample = np.array(sim["uniform_sample"])
    k0, k1 = chunk_keys(chunk_states(5, 0, 1))[0, :2]
    w = philox_np(np.arange(512), 7, 0, 0, k0, k1)
    assert np.array_equal(sample, np.concatenate([uniform_np(w[0], w[1]), uniform_np(w[2], w[3])]))
    assert 0.0 < sample.min() and sample.max() < 1.0
    assert stats.kstest(sample, "uniform").pvalue > 1e-4


def test_profile_stream_layout_is_uniform_and_independent():
    """Many auctions of the profile-mode layout (buyer i of auction a: half i % 2 of block (i // 2, a, c2, c3)),
    by the numpy port: uniform, and buyers uncorrelated."""
    key = chunk_keys(chunk_states(3, 0, 1))[0]
    a = np.arange(200_000)
    u = []
    for j in range(3):
        w = philox_np(np.full(a.shape, j), a, key[2], key[3], key[0], key[1])
        u += [uniform_np(w[0], w[1]), uniform_np(w[2], w[3])]
    u = np.stack(u[:5], axis=1)
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4
    corr = np.corrcoef(u.T)[np.triu_indices(5, 1)]
    assert np.all(np.abs(corr) < 4.5 / math.sqrt(len(a)))


def test_profile_scan_matches_the_numpy_port(sim):
    """The GPU scan (integer keys, registers, one-cell counter) leaves exactly the market of its stream: the cap
    smallest uniforms, cell counts and each cell's first members in buyer order, from the numpy port."""
    assert len(sim["scan"]) >= 5
    for case in sim["scan"]:
        n, cap, units, bounds = case["n"], case["cap"], case["units"], np.array(case["bounds"])
        k0, k1, c2, c3 = case["key"]
        for a in range(len(case["top"])):
            i = np.arange(n)
            w = philox_np(i // 2, a, c2, c3, k0, k1)
            u = np.where(i % 2 == 0, uniform_np(w[0], w[1]), uniform_np(w[2], w[3]))
            assert case["top"][a] == np.sort(u)[:cap].tolist()
            pooled = case["has_pools"] & (u <= case["pooled_top"])
            cell = np.searchsorted(bounds, u, side="left")
            for c in range(len(bounds) + 1):
                members = np.flatnonzero(pooled & (cell == c))
                assert case["cnt"][a][c] == len(members)
                assert case["mem_i"][a][c][:len(members[:units])] == members[:units].tolist()
                assert case["mem_u"][a][c][:len(members[:units])] == u[members[:units]].tolist()


def test_keys_at_most_is_the_exact_pool_threshold():
    """k < keys_at_most(x) iff the uniform (k + 1/2) 2^-52 <= x: at the keys on either side of x, for x drawn
    uniformly, at drawn uniforms themselves (the boundary case) and at the ends."""
    from simulator.kernels.rng import key_uniform, keys_at_most

    gen = np.random.default_rng(4)
    xs = np.concatenate([gen.random(300), [(k + 0.5) * 2.0 ** -52 for k in gen.integers(0, 2 ** 52, 300)],
                         [0.0, 2.0 ** -53, 1.0 - 2.0 ** -53, 1.0, 2.0, -1.0]])
    for x in xs:
        t = int(keys_at_most(float(x)))
        assert 0 <= t <= 2 ** 52
        for k in (t - 2, t - 1, t, t + 1):
            if 0 <= k < 2 ** 52:
                assert (k < t) == ((k + 0.5) * 2.0 ** -52 <= x) == (key_uniform(np.uint64(k)) <= x), (x, k, t)


def test_chunk_keys_and_plan():
    states = chunk_states(1, 0, 3)
    keys = chunk_keys(states)
    assert keys.dtype == np.uint32 and keys.shape == (3, 4)
    assert int(keys[1, 0]) | int(keys[1, 1]) << 32 == int(states[1, 0])
    assert int(keys[2, 2]) | int(keys[2, 3]) << 32 == int(states[2, 1])
    plan = CudaChunkPlan(10 ** 9, 1000)
    sizes = [int(plan.sizes(f, c).sum()) for f, c in plan.batches()]
    assert sum(sizes) == 10 ** 9 and sizes[1] == 2 * sizes[0]  # GPU-sized batches, doubling
    assert plan.per_chunk * 1000 >= 1 << 30


# ---------------------------------------------------------------------- the kernels
def test_v_of_q_port_matches_cpu(sim):
    assert len(sim["v_of_q"]) >= 12
    for spec, err in sim["v_of_q"].items():
        assert err < 1e-12, spec


@pytest.mark.parametrize("mode", ["profile", "orderstat"])
def test_estimates_agree_with_exact_values(sim, mode):
    runs = [r for r in sim["exact"] if r["mode"] == mode]
    assert len(runs) == 3
    for run in runs:
        assert_rows_agree(run["rows"], lambda r: r["analytic"], f"{mode} {run['dist']} n={run['n']}")


@pytest.mark.parametrize("mode", ["profile", "orderstat"])
def test_hand_rules_agree_with_cpu_kernels(sim, mode):
    gpu, cpu = sim["hand"][mode]["gpu"], sim["hand"][mode]["cpu"]
    ref = {(r["mechanism"], r["metric"]): r for r in cpu}
    assert len(gpu) == len(ref) == 12
    for r in gpu:
        c = ref[(r["mechanism"], r["metric"])]
        se = math.hypot(r["stderr"], c["stderr"])
        if r["stderr"] == 0:
            assert abs(r["estimate"] - c["estimate"]) <= 0.01 * max(1.0, abs(c["estimate"])), (r, c)
        else:
            assert abs(r["estimate"] - c["estimate"]) < Z_MAX * se, (mode, r, c)


#: ``cuda_sim_checks.golden_fingerprints()``, recorded from the kernels that took the rules as 15 positional
#: arrays (before ``CompiledRules`` became a named tuple): the simulator runs the device code's own parts (scan,
#: reductions, launch plumbing) as Python and the shared njit helpers compiled for the CPU
GOLDEN = {"uniform:low=0,high=1 profile 50": "a40f5948a02e9f36",
          "uniform:low=0,high=1 orderstat 1e+06": "c656a6c87d0ace8f",
          "uniform:low=0,high=1 orderstat 1e+30": "de3f3ce8033febec",
          "discrete:values=1/2/3,probs=0.5/0.3/0.2 profile 4": "1f311798600809b1",
          "discrete:values=1/2/3,probs=0.5/0.3/0.2 orderstat 4": "d2d7cac4796abaa9"}


def test_backend_bit_identical_to_recorded(sim):
    assert sim["golden"] == GOLDEN


def test_same_seed_same_numbers_and_launch_shape(sim):
    assert sim["repeat_identical"] is True
    for mode, shapes in sim["launch_shapes"].items():
        # other threads per block / blocks per chunk: the same draws, only the summation order differs
        assert shapes["mean_rel"] < 1e-12 and shapes["comom_rel"] < 1e-11, mode
        assert shapes["chunks_differ"] and shapes["comom_symmetric"], mode


def test_precision_target_stops_between_launches(sim):
    prec = sim["precision"]
    assert prec["samples"] in (200, 600, 1400, 3000) and prec["halfwidth"] < 0.05, prec  # a batch boundary
    assert not any("precision" in w for w in prec["warnings"])


# ---------------------------------------------------------------------- no GPU
def _gpu_here() -> bool:
    try:
        from simulator.backends.cuda_backend import cuda_module

        cuda_module()
        return True
    except ValueError:
        return False


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="the simulator stands in for a GPU")
def test_no_gpu_is_a_clear_error(capsys):
    if _gpu_here():
        pytest.skip("a GPU is available here")
    with pytest.raises(ValueError, match="backend: cuda needs an NVIDIA GPU"):
        simulate(["spa"], Market.iid("uniform", 3), samples=100, backend="cuda")
    code = cli.main(["simulate", "--dist", "uniform", "--n", "3", "--mechanism", "spa", "--samples", "100",
                     "--backend", "cuda"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--backend: cuda needs an NVIDIA GPU" in err


def test_bench_cuda_quick_under_simulator():
    proc = subprocess.run([sys.executable, "scripts/bench.py", "--backend", "cuda", "--quick", "--n", "8",
                           "--seconds", "0.05"], cwd=ROOT, env=SIM_ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any("numba CUDA simulator" in line for line in lines)
    assert any("torch comparison skipped" in line for line in lines)
    assert any("profile" in line and "values/s" in line for line in lines)
    assert sum("orderstat" in line and "auctions/s" in line for line in lines) == 3  # n = 10, 1e6, 1e30
