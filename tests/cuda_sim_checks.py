"""Checks of the CUDA backend under numba's CUDA simulator, run by ``test_cuda_sim.py`` in a subprocess with
NUMBA_ENABLE_CUDASIM=1 (the simulator must be chosen before numba.cuda is imported). Prints one JSON object of
measurements; the assertions live in ``test_cuda_sim.py``.

    NUMBA_ENABLE_CUDASIM=1 python tests/cuda_sim_checks.py
"""
import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from distributions import Market, parse_spec  # noqa: E402
from mechanisms.rule import MixtureRule, QuantileRule  # noqa: E402
from simulator import simulate
from simulator.backends import cuda_backend as backend_cuda  # noqa: E402
from simulator.kernels.compiled import compile_rules  # noqa: E402
from simulator.kernels.rng import chunk_states  # noqa: E402

#: Random123 known-answer vectors of Philox4x32-10: counter, key, output
KAT = [((0, 0, 0, 0), (0, 0)), ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0))]
UNIFORM_MECHS = ["spa", "spa:reserve=monopoly", "lottery", "vcg:m=2", "ivickrey:bids=0.1-0.3/0.5/0.6-inf,reserve=0.1",
                 "ivickrey:bids=0.2-0.4/0.8-inf,reserve=0.2,m=2", "mix:0.3*(spa:reserve=0.5)+0.7*lottery"]
#: (mode, distribution, n, mechanisms with exact values (``Mechanism.exact``), samples, seed): pools (several
#: cells), units, mixtures, atoms (ties), n = 1e30
EXACT_RUNS = [
    ("profile", "uniform:low=0,high=1", 4, UNIFORM_MECHS, 2000, 1),
    ("profile", "discrete:values=1/2/3,probs=0.5/0.3/0.2", 3, ["spa", "vcg:m=2", "myerson"], 1500, 2),
    ("profile", "exponential:rate=1", 5, ["spa:reserve=monopoly", "buyer-offer:m=2"], 1500, 7),
    ("orderstat", "uniform:low=0,high=1", 6, UNIFORM_MECHS, 1500, 4),
    ("orderstat", "exponential:rate=1", 1e30, ["spa", "spa:reserve=monopoly", "lottery", "vcg:m=2"], 1000, 5),
    ("orderstat", "discrete:values=1/2/3,probs=0.5/0.3/0.2", 50, ["spa", "vcg:m=2"], 1000, 6),
]
#: hand-built rules (several pools in one mechanism: cells shared across mechanisms) against the CPU kernel
HAND_RULES = [
    ("two_pools", QuantileRule(1, 0.9, 0.05, [0.1, 0.4], [0.3, 0.6], [0.7, 0.45], [0.8, 0.6])),
    ("pools_m2", QuantileRule(2, 0.8, 0.1, [0.0, 0.5], [0.2, 0.7], [0.9, 0.35], [np.inf, 0.4])),
    ("mixture", MixtureRule([0.4, 0.6], [QuantileRule(1, 1.0, 0.0),
                                         QuantileRule(1, 0.7, 0.2, [0.2], [0.5], [0.5], [0.6])])),
]
#: runs whose per-chunk summaries are checked bit for bit against fingerprints recorded from earlier kernels
#: (``test_cuda_sim.GOLDEN``): (distribution, rules, [(mode, n)]); states ``chunk_states(11, 0, 2)``, chunks of
#: 40 and 23 auctions, 16 threads x 2 blocks per chunk
_LOTTERY = QuantileRule(1, 1.0, 0.0, [0.0], [1.0], [0.0], [np.inf])
_POOLS = dict(pool_lo=[0.0, 0.2, 0.5], pool_hi=[0.2, 0.5, 1.0], pool_bid=[3.0, 2.0, 1.0])
GOLDEN_RUNS = [
    ("uniform:low=0,high=1", [_LOTTERY, QuantileRule(1, 0.5, 0.5),
                              QuantileRule(1, 0.9, 0.1, [0.4, 0.5], [0.5, 0.7], [0.5, 0.3], [0.6, 0.5]),
                              QuantileRule(3, 1.0, 0.0),
                              MixtureRule([0.3, 0.7], [QuantileRule(1, 0.5, 0.5), _LOTTERY])],
     [("profile", 50), ("orderstat", 1e6), ("orderstat", 1e30)]),
    ("discrete:values=1/2/3,probs=0.5/0.3/0.2", [QuantileRule(1, 1.0, 1.0, pool_next=[np.inf, 3.0, 2.0], **_POOLS),
                                                 QuantileRule(3, 1.0, 0.0, pool_next=[3.0, 2.0, 1.0], **_POOLS)],
     [("profile", 4), ("orderstat", 4.0)]),
]
#: profile scans checked bit for bit (``scan_kernel``): (n, cap, units, cell bounds, pooled top, has pools):
#: one cell (the lottery's), several cells below a pooled top, no pools, a longer top list; larger n, where most
#: Philox blocks take the scan's short path
SCAN_CASES = [(7, 2, 1, [], 1.0, True), (9, 3, 2, [0.2, 0.5], 0.7, True), (6, 2, 1, [], 0.0, False),
              (5, 4, 3, [], 0.4, True), (11, 2, 3, [0.3], 0.6, True), (201, 2, 1, [], 1.0, True),
              (150, 2, 1, [], 0.0, False), (120, 3, 2, [0.01, 0.02], 0.05, True)]
V_SPECS = ["uniform:low=1,high=3", "exponential:rate=2", "lomax:shape=3", "pareto:shape=2,scale=1",
           "equal-revenue:high=100", "weibull:shape=0.5", "example42:n=10", "lognormal:mu=0,sigma=1",
           "truncnorm:mean=1,sd=1,low=0,high=3", "beta:a=2,b=5",
           "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", "discrete:values=1/2/3,probs=0.5/0.3/0.2"]


def rows(res):
    out = []
    for _, r in res.frame.iterrows():
        out.append({"mechanism": r["mechanism"], "metric": r["metric"], "estimate": float(r["estimate"]),
                    "stderr": float(r["stderr"]),
                    "analytic": None if r["analytic"] is None or not np.isfinite(r["analytic"])
                    else float(r["analytic"])})
    return out


def main():
    backend_cuda.cuda_module()  # first: numba-cuda on numpy >= 2.5 needs np.row_stack restored
    from simulator.backends import cuda_kernels as ck

    from numba import cuda

    out = {"simulator": backend_cuda.simulator_active(), "timings": {}}
    t0 = time.perf_counter()
    # Philox known answers
    counters = np.array([c for c, _ in KAT], dtype=np.uint32)
    keys = np.array([k for _, k in KAT], dtype=np.uint32)
    words = np.zeros((len(KAT), 4), dtype=np.uint32)
    ck.philox_kernel[1, 32](counters, keys, words)
    out["kat"] = [[f"{int(w):08x}" for w in row] for row in words]
    # uniforms at the extreme words, and a sample of the streams
    ext = np.array([[0, 0], [0xFFFFFFFF, 0xFFFFFFFF], [0xFFFFFFFF, 0xFFFFF000]], dtype=np.uint32)
    u = np.zeros(len(ext))
    ck.uniform_kernel[1, 32](ext, u)
    out["uniform_extremes"] = [float(x).hex() for x in u]
    m = 512
    ctr = np.zeros((m, 4), dtype=np.uint32)
    ctr[:, 0] = np.arange(m)
    ctr[:, 1] = 7
    key = np.tile(backend_cuda.chunk_keys(chunk_states(5, 0, 1))[0, :2], (m, 1))
    w = np.zeros((m, 4), dtype=np.uint32)
    ck.philox_kernel[m // 128, 128](ctr, key, w)
    pairs = np.concatenate([w[:, :2], w[:, 2:]])
    sample = np.zeros(len(pairs))
    ck.uniform_kernel[len(pairs) // 128, 128](np.ascontiguousarray(pairs), sample)
    out["uniform_sample"] = sample.tolist()
    # v(q) on the device against the CPU kernel
    q = np.concatenate([[2.0 ** -53, 1e-12, 1e-6], np.linspace(0.001, 0.999, 37), [1 - 1e-9, 1 - 2.0 ** -53]])
    out["timings"]["rng"] = time.perf_counter() - t0
    out["v_of_q"] = {}
    for spec in V_SPECS:
        dist = parse_spec(spec, 10)
        kind, params = dist.numba_spec()
        got = np.zeros(len(q))
        ck.v_of_q_kernel[1, 64](kind, params, q, got)
        want = dist.v_numba(q)
        out["v_of_q"][spec] = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))
    # the profile scan of single auctions, for a bit-for-bit check against the numpy port of the streams
    out["scan"] = []
    scan_keys = backend_cuda.chunk_keys(chunk_states(13, 2, 1))
    for n, cap, units, bounds, pooled_top, has_pools in SCAN_CASES:
        a_count = 48
        top = np.full((a_count, cap), np.nan)
        cnt = np.zeros((a_count, len(bounds) + 1), dtype=np.int64)
        mem_u = np.full((a_count, len(bounds) + 1, units), np.nan)
        mem_i = np.full((a_count, len(bounds) + 1, units), -1, dtype=np.int64)
        ck.scan_kernel[1, 64](scan_keys, n, np.array(bounds or [0.0]), len(bounds), pooled_top, has_pools, cap,
                              units, top, cnt, mem_u, mem_i)
        out["scan"].append({"n": n, "cap": cap, "units": units, "bounds": bounds, "pooled_top": pooled_top,
                            "has_pools": has_pools, "key": scan_keys[0].tolist(), "top": top.tolist(),
                            "cnt": cnt.tolist(), "mem_u": np.nan_to_num(mem_u, nan=-1.0).tolist(),
                            "mem_i": mem_i.tolist()})
    out["timings"]["primitives"] = time.perf_counter() - t0
    # simulations against exact values
    out["exact"] = []
    for mode, spec, n, mechs, samples, seed in EXACT_RUNS:
        t = time.perf_counter()
        res = simulate(mechs, Market.iid(spec, n), samples=samples, seed=seed, mode=mode, backend="cuda",
                       progress=False, benchmarks=False)
        out["exact"].append({"mode": res.mode, "dist": spec, "n": n, "rows": rows(res)})
        out["timings"][f"exact {mode} {spec}"] = time.perf_counter() - t
    # hand-built rules against the CPU kernels (threads backend), and the same seed twice
    t = time.perf_counter()
    out["hand"] = {}
    for mode, n in (("profile", 6), ("orderstat", 6)):
        gpu = simulate(HAND_RULES, Market.iid("uniform", n), samples=1500, seed=8, mode=mode, backend="cuda",
                       progress=False)
        cpu = simulate(HAND_RULES, Market.iid("uniform", n), samples=400_000, seed=8, mode=mode, progress=False)
        out["hand"][mode] = {"gpu": rows(gpu), "cpu": rows(cpu)}
    first, again = (simulate(HAND_RULES, Market.iid("uniform", 6), samples=300, seed=9, backend="cuda",
                             progress=False) for _ in range(2))
    out["repeat_identical"] = first.to_json() == again.to_json()
    out["timings"]["hand"] = time.perf_counter() - t
    # several chunks in one launch; the launch shape changes the reduction order only
    t = time.perf_counter()
    rules = compile_rules([r for _, r in HAND_RULES] + [QuantileRule(1, 1.0, 0.0)])
    kind, params = parse_spec("exponential:rate=1").numba_spec()
    states = chunk_states(11, 0, 3)
    sizes = np.array([120, 120, 77])
    out["launch_shapes"] = {}
    for mode, n in (("profile", 9), ("orderstat", 9.0)):
        runs = []
        for threads, blocks in ((32, 3), (64, 1)):
            backend = backend_cuda.CudaBackend(threads=threads, blocks_per_chunk=blocks)
            runs.append(backend(states, sizes, rules, kind, params, n, mode=mode))
        out["launch_shapes"][mode] = {
            "mean_rel": max(float(np.max(np.abs(r[0] - runs[0][0]) / np.maximum(np.abs(runs[0][0]), 1e-300)))
                            for r in runs[1:]),
            "comom_rel": max(float(np.max(np.abs(r[1] - runs[0][1]) / np.maximum(np.abs(runs[0][1]), 1e-300)))
                             for r in runs[1:]),
            "chunks_differ": bool(not np.allclose(runs[0][0][0], runs[0][0][1])),
            "comom_symmetric": bool(np.array_equal(runs[0][1], np.swapaxes(runs[0][1], 2, 3))),
        }
    out["timings"]["launch_shapes"] = time.perf_counter() - t
    # a precision target: small chunks (the GPU plan's 2^30 values would be one chunk here), stops early
    t = time.perf_counter()
    backend_cuda.CHUNK_VALUES = 3 * 200  # chunks of 200 auctions; batches of 1, 2, 4, ... chunks
    res = simulate(["spa"], Market.iid("uniform", 3), samples=10 ** 6, seed=12, precision=0.05, backend="cuda",
                   progress=False)
    out["precision"] = {"samples": res.samples, "halfwidth": float(res.relative_halfwidth("revenue")[0]),
                        "warnings": res.warnings}
    out["timings"]["precision"] = time.perf_counter() - t
    t = time.perf_counter()
    out["golden"] = golden_fingerprints()
    out["timings"]["golden"] = time.perf_counter() - t
    out["cuda_available"] = bool(cuda.is_available())
    print(json.dumps(out))


def golden_fingerprints() -> dict:
    """The sha-256 (16 hex digits) of the backend's (means, co-moments) of each run of ``GOLDEN_RUNS``, by
    "<distribution> <mode> <n>"."""
    out = {}
    for spec, rules, runs in GOLDEN_RUNS:
        kind, params = parse_spec(spec).numba_spec()
        compiled = compile_rules(rules)
        for mode, n in runs:
            backend = backend_cuda.CudaBackend(threads=16, blocks_per_chunk=2)
            means, comoms = backend(chunk_states(11, 0, 2), np.array([40, 23]), compiled, kind, params, n, mode=mode)
            digest = hashlib.sha256(np.ascontiguousarray(means).tobytes())
            digest.update(np.ascontiguousarray(comoms).tobytes())
            out[f"{spec} {mode} {n:g}"] = digest.hexdigest()[:16]
    return out


if __name__ == "__main__":
    main()
