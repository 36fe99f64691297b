"""Compile every kernel the CUDA backend launches to PTX for a real GPU, without a GPU (a development check).

numba's CUDA simulator (``tests/test_cuda_sim.py``) runs the kernels as Python: it does not type them the way
the CUDA target does. This script drives ``backend_cuda.CudaBackend`` in both modes on a few markets (pools,
several units, mixtures, atoms, n = 1e30) with the launches intercepted, compiles each kernel with the
arguments the backend passes (``numba.cuda.compile_ptx``, compute capability 9.0 by default) and, given
``--ptxas``, assembles the PTX and prints registers, spills and shared memory. Needs numba-cuda with NVVM
(``pip install "numba-cuda[cu12]"``; checked with numba-cuda 0.30.4); the GPU itself is never touched.

    python scripts/cuda_ptx_check.py [--cc 9.0] [--ptxas .../nvidia/cuda_nvcc/bin/ptxas] [--out DIR]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import types

import numpy as np


def launcher_class(cc, out_dir: str, ptxas: str | None, done: dict):
    """A stand-in for a kernel launch ``kernel[grid, block](*args)`` that compiles the kernel to PTX for ``cc``
    for the argument types of the call (once per kernel and signature) and, with ``ptxas``, reports its
    registers and spills."""
    import numba
    from numba import cuda, typeof

    class Launch:
        def __init__(self, kernel, name):
            self.kernel, self.name = kernel, name

        def __getitem__(self, config):
            def launch(*call_args):
                sig = tuple(numba.boolean if isinstance(a, (bool, np.bool_)) else typeof(a) for a in call_args)
                key = (self.kernel.py_func.__qualname__, self.name, sig)
                if key in done:
                    return
                t = time.perf_counter()
                ptx, _ = cuda.compile_ptx(self.kernel.py_func, sig, cc=cc)
                path = os.path.join(out_dir, f"{self.name}_{len(done)}.ptx")
                with open(path, "w") as fh:
                    fh.write(ptx)
                done[key] = path
                print(f"{self.name:28s} {time.perf_counter() - t:5.1f} s  {assemble(ptxas, cc, path)}", flush=True)
            return launch

    return Launch


def assemble(ptxas: str | None, cc, path: str) -> str:
    """ptxas's register and spill report of one PTX file ("" without ptxas)."""
    if not ptxas:
        return ""
    proc = subprocess.run([ptxas, f"-arch=sm_{cc[0]}{cc[1]}", "-v", path, "-o", path + ".cubin"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"ptxas failed on {path}:\n{proc.stderr}")
    return " | ".join(line.split(":", 1)[-1].strip() for line in proc.stderr.splitlines()
                      if "registers" in line or "spill" in line)


class HostArrays:
    """Stands in for numba.cuda's memory functions: host arrays type like device ones."""

    to_device = staticmethod(np.ascontiguousarray)
    device_array = staticmethod(lambda shape, dtype=np.float64: np.zeros(shape, dtype))


def drive_backend(Launch) -> None:
    """Run ``CudaBackend`` in both modes on a few markets (pools, atoms, several units, mixtures) with every
    auction kernel launch intercepted by ``Launch``."""
    from distributions import Market
    from mechanisms import parse_mechanism
    from simulator.backends import cuda_backend, cuda_kernels
    from simulator.kernels.compiled import compile_rules

    original = cuda_kernels.auction_kernels

    def intercepted(mode, *key):
        auctions, merge = original(mode, *key)
        return Launch(auctions, mode), Launch(merge, "merge")
    cuda_kernels.auction_kernels = intercepted
    backend = object.__new__(cuda_backend.CudaBackend)
    backend.__dict__.update(cuda=HostArrays, kernels=cuda_kernels, sim=False, threads=None, blocks_per_chunk=None,
                            _rules=None, _buffers={})
    markets = [("exponential:rate=1", 1000, ["spa", "spa:reserve=monopoly", "lottery"]),
               ("uniform", 7, ["spa", "vcg:m=2", "ivickrey:bids=0.1-0.3/0.5/0.6-inf,reserve=0.1",
                               "mix:0.3*(spa:reserve=0.5)+0.7*lottery"]),
               ("discrete:values=1/2/3", 5, ["spa", "myerson"])]
    states = np.arange(8, dtype=np.uint64).reshape(2, 4)
    for spec, n, mechs in markets:
        market = Market.iid(spec, n)
        rules = compile_rules([parse_mechanism(m, market).rule(market) for m in mechs])
        kind, params = market.dist.numba_spec()
        for mode, size in (("profile", n), ("orderstat", float(n)), ("orderstat", 1e30)):
            try:
                backend(states, np.array([10, 10]), rules, kind, params, size, mode=mode)
            except AttributeError as exc:  # the host arrays have no copy_to_host: the launches are done
                if "copy_to_host" not in str(exc):
                    raise


def compile_helpers(Launch) -> None:
    """The small kernels outside the auction launches (Philox, uniforms, v(q))."""
    from simulator.backends import cuda_kernels

    for kernel, call_args in [
            (cuda_kernels.philox_kernel, (np.zeros((2, 4), np.uint32), np.zeros((2, 2), np.uint32),
                                          np.zeros((2, 4), np.uint32))),
            (cuda_kernels.uniform_kernel, (np.zeros((2, 2), np.uint32), np.zeros(2))),
            (cuda_kernels.v_of_q_kernel, (3, np.zeros(2), np.zeros(2), np.zeros(2)))]:
        Launch(kernel, kernel.py_func.__name__)[1, 1](*call_args)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cc", default="9.0", help="compute capability (default 9.0: H100/H200)")
    p.add_argument("--ptxas", help="path of ptxas, to assemble the PTX and report resources")
    p.add_argument("--out", default=None, help="folder for the .ptx files (default: a temporary one)")
    args = p.parse_args(argv)
    cc = tuple(int(x) for x in args.cc.split("."))
    out_dir = args.out or tempfile.mkdtemp(prefix="auction-sim-ptx-")
    os.makedirs(out_dir, exist_ok=True)
    if not hasattr(np, "row_stack"):  # numba-cuda 0.30 with numpy >= 2.5
        np.row_stack = np.vstack
    import numba.cuda.dispatcher as dispatcher

    # device functions ask the current device for its compute capability; there is none here
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    done: dict = {}
    Launch = launcher_class(cc, out_dir, args.ptxas, done)
    drive_backend(Launch)
    compile_helpers(Launch)
    print(f"{len(done)} kernels compiled for compute capability {args.cc}; PTX in {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
