"""Throughput benchmarks (``docs/architecture.md`` "Performance budget"), reported as ratios within one run.

Section ``profile``: second-price, second-price with the monopoly reserve and the lottery run together (common
random numbers) on exponential(1) values by ``simulator.simulate`` in profile mode, against a vectorised numpy
implementation of the same three auctions (a samples x n matrix of values, the top two by ``np.partition``;
values by numpy's exponential sampler and, as the kernels do, by inverse transform), in buyer values per
second, with everything (seeding, merging, Python) included. The ratio is against the faster numpy variant; each row
also reports the ratio to the generator's limit on this machine (``generator_limit``: a one-mechanism kernel
that only draws, ranks and transforms the top two, in the same run), and a last row the cost of ten mechanisms
(the bargaining solutions included) against the three, at n = 10.
Later issues add sections (order-statistic mode, cuda) to ``SECTIONS``.

Section ``orderstat``: the same three auctions by ``simulate(..., mode="orderstat")`` in auctions per second at
n = 10, 1e6 and 1e30 (the cost of an auction must not depend on n: the ratio 1e30 / 10 should be near 1, and
within 1.5x), and the speed-up over profile mode at n = 1e5 (auctions per second, both by ``simulate``).

Section ``cuda`` (``--backend cuda``): the same three auctions by ``simulate(..., backend="cuda")`` in profile
mode (buyer values per second) and in order-statistic mode (auctions per second at ``ORDERSTAT_NS``), against a
batched PyTorch implementation on the same GPU in the same run (``torch.rand`` or ``exponential_`` in blocks of
samples x n, float32, the top two by ``torch.topk``; the faster variant counts). torch is imported only here;
without it, or without a CUDA device for it, the comparison is skipped with a message. Under numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``) the section runs at tiny sizes and its timings mean nothing.

    python scripts/bench.py                # n = 2, 5, 10, 1000, 100000 (+ ten mechanisms at n = 10)
    python scripts/bench.py --quick        # a few seconds
    python scripts/bench.py --n 1000 --seconds 5 --json out.json
    python scripts/bench.py --backend cuda                                   # on a GPU machine
    NUMBA_ENABLE_CUDASIM=1 python scripts/bench.py --backend cuda --quick --n 8   # smoke test, no GPU
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from distributions import Market
from mechanisms.rule import QuantileRule
from simulator import simulate

RATE = 1.0
RESERVE = 1.0 / RATE  # monopoly reserve of exponential(rate): 1/rate, quantile e^{-1}


def bench_rules():
    """The three auctions as QuantileRules (mechanisms/rule.py): spa, spa with reserve, the free lottery."""
    return [("spa", QuantileRule(m=1, r=1.0, reserve=0.0)),
            ("spa:reserve=monopoly", QuantileRule(m=1, r=math.exp(-RATE * RESERVE), reserve=RESERVE)),
            ("lottery", QuantileRule(m=1, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[1.0], pool_bid=[0.0],
                                     pool_next=[0.0]))]


def numpy_auctions(samples: int, n: int, seed: int = 0, block_values: int = 1 << 20,
                   inverse: bool = False) -> np.ndarray:
    """Mean revenue of spa, spa with reserve and lottery, and mean welfare of each, by numpy on a values matrix
    (blocks of about ``block_values`` values): the vectorised reference the kernels are measured against.
    Values by numpy's exponential sampler, or with ``inverse`` as v(U) = -log(U)/rate like the kernels."""
    gen = np.random.default_rng(seed)
    rows = max(1, block_values // n)
    sums = np.zeros(6)
    done = 0
    while done < samples:
        b = min(rows, samples - done)
        if inverse:
            v = -np.log1p(-gen.random(size=(b, n))) / RATE
        else:
            v = gen.exponential(1.0 / RATE, size=(b, n))
        if n >= 2:
            top2 = np.partition(v, n - 2, axis=1)[:, -2:]
            first, second = top2.max(axis=1), top2.min(axis=1)
        else:
            first, second = v[:, 0], np.zeros(b)
        sold_r = first >= RESERVE
        sums += [second.sum(), np.where(sold_r, np.maximum(second, RESERVE), 0.0).sum(), 0.0,
                 first.sum(), np.where(sold_r, first, 0.0).sum(), v[:, 0].sum()]  # lottery: buyer 0 wins
        done += b
    return sums / samples


def _timed(fn, min_seconds: float):
    """Run fn(scale) with growing scale until a run takes min_seconds; returns (scale, seconds)."""
    scale = 1
    while True:
        t0 = time.perf_counter()
        fn(scale)
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return scale, dt
        scale *= max(2, min(64, int(math.ceil(1.3 * min_seconds / max(dt, 1e-4)))))


def _profile_rate(rules, n: int, seconds: float) -> float:
    """Buyer values per second of ``simulate(rules)`` in profile mode on exponential(1) values (everything in)."""
    base = max(1, (1 << 20) // n)
    market = Market.iid("exponential:rate=1", n)
    s, t = _timed(lambda k: simulate(rules, market, samples=base * k, seed=1, mode="profile", exact=False,
                                     benchmarks=False, progress=False), seconds)
    return base * s * n / t


def profile_section(ns, seconds: float) -> list[dict]:
    """The three auctions against numpy and against the generator's limit (``generator_limit``), per n."""
    rules = bench_rules()
    simulate(rules, Market.iid("exponential:rate=1", 10), samples=1000, seed=0, mode="profile", exact=False,
             benchmarks=False)  # compile
    generator_limit(10, 1000)  # compile
    rows = []
    for n in ns:
        base = max(1, (1 << 20) // n)
        sim_rate = _profile_rate(rules, n, seconds)
        s_np, t_np = _timed(lambda k: numpy_auctions(base * k, n), seconds)
        s_inv, t_inv = _timed(lambda k: numpy_auctions(base * k, n, inverse=True), seconds)
        s_gen, t_gen = _timed(lambda k: generator_limit(n, base * k), seconds)
        np_rate, inv_rate, gen_rate = (base * s_np * n / t_np, base * s_inv * n / t_inv, base * s_gen * n / t_gen)
        best = max(np_rate, inv_rate)
        rows.append({"section": "profile", "n": n, "simulator_values_per_s": sim_rate,
                     "numpy_values_per_s": np_rate, "numpy_inverse_values_per_s": inv_rate,
                     "generator_limit_values_per_s": gen_rate, "ratio": sim_rate / best,
                     "ratio_to_generator_limit": sim_rate / gen_rate})
        print(f"profile  n={n:>7}  simulator {sim_rate:9.3e} values/s  numpy {np_rate:9.3e} "
              f"(inverse transform {inv_rate:9.3e})  generator limit {gen_rate:9.3e}  ratio {sim_rate / best:6.1f}x "
              f"numpy, {sim_rate / gen_rate:5.2f} of the limit", flush=True)
    return rows + [ten_mechanisms_row(seconds)]


#: ten mechanisms at once (the bargaining solutions included) against the bench's three, at TEN_N buyers
TEN = ("spa", "spa:reserve=monopoly", "lottery", "myerson", "ks", "nash", "cross-nash", "spa:reserve=0.5",
       "mix:0.5*spa+0.5*lottery", "buyer-offer")
#: ten mechanisms that are ten different rules (TEN holds six: at n = 10 with exponential values the Nash and
#: cross-side Nash solutions are second price, Myerson is the monopoly reserve, buyer-offer is the lottery)
TEN_DISTINCT = ("spa", "spa:reserve=0.25", "spa:reserve=0.5", "spa:reserve=0.75", "spa:reserve=monopoly",
                "spa:reserve=1.5", "lottery", "mix:0.5*spa+0.5*lottery", "mix:0.25*spa:reserve=0.5+0.75*lottery",
                "ks")
TEN_N = 10


def ten_mechanisms_row(seconds: float) -> dict:
    """The cost of ten mechanisms on the same draws relative to the three (issue 18's target: at most 2x), for
    TEN (each distinct rule runs once: ``kernels.compiled.distinct_rules``) and for TEN_DISTINCT."""
    from mechanisms import parse_mechanism
    from simulator.kernels.compiled import distinct_rules

    market = Market.iid("exponential:rate=1", TEN_N)
    ten = [parse_mechanism(name, market).rule(market) for name in TEN]
    other = [parse_mechanism(name, market).rule(market) for name in TEN_DISTINCT]
    for rules in (ten, other):  # compile
        simulate(rules, market, samples=1000, seed=0, mode="profile", exact=False, benchmarks=False)
    three = _profile_rate(bench_rules(), TEN_N, seconds)
    many, distinct = _profile_rate(ten, TEN_N, seconds), _profile_rate(other, TEN_N, seconds)
    n_rules = len(distinct_rules(ten)[0])
    print(f"profile  n={TEN_N:>7}  ten mechanisms ({n_rules} distinct rules) cost {three / many:5.2f}x the three "
          f"(target <= 2); ten distinct rules {three / distinct:5.2f}x", flush=True)
    return {"section": "profile", "n": TEN_N, "mechanisms": list(TEN), "distinct_rules": n_rules,
            "three_values_per_s": three, "ten_values_per_s": many, "ten_over_three_cost": three / many,
            "ten_distinct": list(TEN_DISTINCT), "ten_distinct_values_per_s": distinct,
            "ten_distinct_over_three_cost": three / distinct}


def generator_limit(n: int, samples: int) -> float:
    """The generator's limit on this machine: a one-mechanism numba kernel that only draws n xoshiro256+ uniforms
    per auction (the simulator's streams, ``kernels.rng``), keeps the two smallest as integer keys and transforms
    them (second price's revenue), in parallel over chunks like the simulator. Returns the mean revenue."""
    from simulator.kernels import rng

    chunks = max(8, min(256, samples // 4096 + 1))
    sizes = np.full(chunks, samples // chunks, dtype=np.int64)
    sizes[: samples % chunks] += 1
    return float(_limit_kernel()(rng.chunk_states(1, 0, chunks), sizes, n).sum() / samples)


def _limit_kernel():
    """The compiled kernel of ``generator_limit`` (numba imported on use; cached on disk)."""
    import numba

    from simulator.kernels.rng import key_uniform, xoshiro_next

    @numba.njit(parallel=True, cache=True)
    def kernel(states, sizes, n):
        out = np.zeros(states.shape[0])
        for c in numba.prange(states.shape[0]):
            s0, s1, s2, s3 = states[c, 0], states[c, 1], states[c, 2], states[c, 3]
            total = 0.0
            for _ in range(sizes[c]):
                k1 = np.uint64(0xFFFFFFFFFFFFFFFF)
                k2 = k1
                for _ in range(n):
                    x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
                    key = x >> np.uint64(12)
                    k2 = min(k2, max(k1, key))
                    k1 = min(k1, key)
                total += -math.log(key_uniform(k2)) / RATE if n >= 2 else 0.0
            out[c] = total
        return out

    return kernel


def torch_auctions(samples: int, n: int, device: str = "cuda", dtype_name: str = "float32",
                   block_values: int = 1 << 26, inverse: bool = False):
    """numpy_auctions in PyTorch on ``device``: blocks of samples x n values (torch's exponential sampler, or
    -log1p(-U) of torch.rand), the top two by torch.topk; the sums stay on the device until the end."""
    import torch

    dtype = getattr(torch, dtype_name)
    gen = torch.Generator(device=device)
    gen.manual_seed(0)
    rows = max(1, block_values // n)
    sums = torch.zeros(6, dtype=torch.float64, device=device)
    done = 0
    while done < samples:
        b = min(rows, samples - done)
        if inverse:
            v = -torch.log1p(-torch.rand((b, n), device=device, dtype=dtype, generator=gen)) / RATE
        else:
            v = torch.empty((b, n), device=device, dtype=dtype).exponential_(RATE, generator=gen)
        if n >= 2:
            top = torch.topk(v, 2, dim=1).values
            first, second = top[:, 0], top[:, 1]
        else:
            first, second = v[:, 0], torch.zeros_like(v[:, 0])
        sold_r = first >= RESERVE
        zero = torch.zeros_like(first)
        sums += torch.stack([second.sum(), torch.where(sold_r, torch.clamp(second, min=RESERVE), zero).sum(),
                             zero.sum(), first.sum(), torch.where(sold_r, first, zero).sum(),
                             v[:, 0].sum()]).to(torch.float64)
        done += b
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (sums / samples).cpu().numpy()


def _torch_cuda():
    """(True, "") when torch can run on a CUDA device, else (False, the reason)."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if not torch.cuda.is_available():
        return False, "torch sees no CUDA device"
    return True, ""


def cuda_section(ns, seconds: float) -> list[dict]:
    from simulator.backends import cuda_backend as backend_cuda

    try:
        device = backend_cuda.describe()
    except ValueError as exc:
        print(f"cuda     skipped: {exc}", flush=True)
        return []
    sim = backend_cuda.simulator_active()
    print(f"cuda     {device}" + ("  (simulator: tiny sizes, timings meaningless)" if sim else ""), flush=True)
    rules = bench_rules()
    run = dict(exact=False, benchmarks=False, progress=False, backend="cuda")
    for mode in ("profile", "orderstat"):  # compile both kernels before timing
        simulate(rules, Market.iid("exponential:rate=1", 10), samples=64, seed=0, mode=mode, **run)
    torch_ok, why = (False, "CUDA simulator") if sim else _torch_cuda()
    if not torch_ok:
        print(f"cuda     torch comparison skipped: {why}", flush=True)
    rows = []
    for n in ns:
        base = 1 if sim else max(1, (1 << 24) // n)
        s_gpu, t_gpu = _timed(lambda k: simulate(rules, Market.iid("exponential:rate=1", n), samples=base * k, seed=1,
                                                 mode="profile", **run), seconds)
        rate = base * s_gpu * n / t_gpu
        row = {"section": "cuda", "mode": "profile", "n": n, "simulator_values_per_s": rate}
        line = f"cuda     n={n:>7}  profile {rate:9.3e} values/s"
        if torch_ok:
            torch_auctions(base, n)  # warm-up (kernels, allocator)
            s_t, t_t = _timed(lambda k: torch_auctions(base * k, n), seconds)
            s_i, t_i = _timed(lambda k: torch_auctions(base * k, n, inverse=True), seconds)
            best = max(base * s_t * n / t_t, base * s_i * n / t_i)
            row |= {"torch_values_per_s": base * s_t * n / t_t, "torch_inverse_values_per_s": base * s_i * n / t_i,
                    "ratio": rate / best}
            line += f"  torch {best:9.3e} values/s  ratio {rate / best:6.1f}x"
        rows.append(row)
        print(line, flush=True)
    for n in ORDERSTAT_NS:
        base = 1 if sim else 1 << 20
        s_os, t_os = _timed(lambda k: simulate(rules, Market.iid("exponential:rate=1", n), samples=base * k, seed=1,
                                               mode="orderstat", **run), seconds)
        rate = base * s_os / t_os
        rows.append({"section": "cuda", "mode": "orderstat", "n": n, "auctions_per_s": rate})
        print(f"cuda     n={n:>7.3g}  orderstat {rate:9.3e} auctions/s", flush=True)
    return rows


#: order-statistic mode: market sizes timed, and the one compared with profile mode
ORDERSTAT_NS = (10, 10 ** 6, 1e30)
ORDERSTAT_VS_PROFILE_N = 10 ** 5


def orderstat_section(ns, seconds: float) -> list[dict]:
    rules = bench_rules()
    run = dict(exact=False, benchmarks=False, progress=False)
    for mode in ("orderstat", "profile"):  # compile
        simulate(rules, Market.iid("exponential:rate=1", 10), samples=1000, seed=0, mode=mode, **run)

    def rate(n, mode, base):
        s, t = _timed(lambda k: simulate(rules, Market.iid("exponential:rate=1", n), samples=base * k, seed=1, mode=mode,
                                         **run), seconds)
        return base * s / t

    rows = []
    for n in ORDERSTAT_NS:
        r = rate(n, "orderstat", 1 << 16)
        rows.append({"section": "orderstat", "mode": "orderstat", "n": n, "auctions_per_s": r})
        print(f"orderstat n={n:>7.3g}  {r:9.3e} auctions/s", flush=True)
    small, huge = rows[0]["auctions_per_s"], rows[-1]["auctions_per_s"]
    rows.append({"section": "orderstat", "cost_ratio_1e30_vs_10": small / huge})
    print(f"orderstat cost of an auction at n = 1e30 / at n = 10: {small / huge:5.2f}x (target <= 1.5)", flush=True)
    n = ORDERSTAT_VS_PROFILE_N
    r_os = rate(n, "orderstat", 1 << 16)
    r_pr = rate(n, "profile", max(1, (1 << 22) // n))
    rows.append({"section": "orderstat", "n": n, "orderstat_auctions_per_s": r_os, "profile_auctions_per_s": r_pr,
                 "speedup": r_os / r_pr})
    print(f"orderstat n={n:>7.3g}  {r_os:9.3e} auctions/s  profile {r_pr:9.3e} auctions/s  "
          f"speed-up {r_os / r_pr:8.1f}x", flush=True)
    return rows


#: name -> f(ns, seconds) -> rows: the CPU sections (default), and those that need a GPU (--backend cuda)
SECTIONS = {"profile": profile_section, "orderstat": orderstat_section}
GPU_SECTIONS = {"cuda": cuda_section}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs (about 0.3 s per measurement)")
    p.add_argument("--n", type=int, nargs="+", default=[2, 5, 10, 1000, 100000], help="market sizes")
    p.add_argument("--seconds", type=float, default=None, help="least time per measurement (default 2, quick 0.3)")
    p.add_argument("--sections", nargs="+", choices=list(SECTIONS) + list(GPU_SECTIONS), default=None,
                   help="default: the CPU sections, or the GPU ones with --backend cuda")
    p.add_argument("--backend", choices=("cpu", "cuda"), default="cpu", help="cuda: the GPU section(s)")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (0.3 if args.quick else 2.0)
    if args.sections is None:
        args.sections = list(GPU_SECTIONS if args.backend == "cuda" else SECTIONS)
    import numba

    print(f"numba {numba.__version__}, threads {numba.config.NUMBA_NUM_THREADS}, "
          f"threading layer {numba.threading_layer() if _parallel_ran() else '?'}", flush=True)
    rows = []
    for name in args.sections:
        rows += (SECTIONS | GPU_SECTIONS)[name](args.n, seconds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


def _parallel_ran() -> bool:
    simulate(bench_rules(), Market.iid("exponential:rate=1", 10), samples=1000, seed=0, exact=False, benchmarks=False)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
