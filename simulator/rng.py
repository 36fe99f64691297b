"""Random streams of the Monte Carlo engine (``shared/DESIGN.md``, "Statistics" and "Performance budget").

Seeding: a user seed -> ``numpy.random.SeedSequence`` -> one child per chunk, the child of chunk i being
``SeedSequence(seed, spawn_key=(i,))`` (what ``SeedSequence(seed).spawn(i + 1)[i]`` returns). The child's
``generate_state(4, uint64)`` seeds a xoshiro256+ generator that runs inside the numba kernels: ~1 ns per
draw, against ~7-8 ns for numba's ``np.random.random()``. Chunk i's stream therefore depends only on (seed, i),
whatever the threads, the scheduling or the backend.

Uniforms lie in the open interval (0, 1): the top 52 bits of a xoshiro256+ output k give (k + 1/2) 2^-52, so
0 and 1 never occur (v(0) may be infinite). The smallest quantile drawn is 2^-53 ~ 1.1e-16.
"""
from __future__ import annotations

import numba
import numpy as np

_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_U12 = np.uint64(12)
_SCALE = 2.0 ** -52


@numba.njit(cache=True, inline="always")
def xoshiro_next(s0, s1, s2, s3):
    """One step of xoshiro256+ (Blackman & Vigna): returns (output, new state)."""
    out = s0 + s3
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return out, s0, s1, s2, s3


@numba.njit(cache=True, inline="always")
def to_open_uniform(x):
    """A 64-bit output as a uniform in (0, 1): (top 52 bits + 1/2) * 2^-52 (never 0, never 1)."""
    return (np.float64(x >> _U12) + 0.5) * _SCALE


@numba.njit(cache=True)
def uniforms(state, size):
    """``size`` uniforms from a stream; ``state`` (4 uint64) is advanced in place (used by tests)."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(size)
    for i in range(size):
        x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
        out[i] = to_open_uniform(x)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return out


def chunk_state(seed: int, chunk: int) -> np.ndarray:
    """The xoshiro256+ state (4 uint64) of chunk ``chunk`` of the run seeded with ``seed``."""
    state = np.random.SeedSequence(seed, spawn_key=(int(chunk),)).generate_state(4, np.uint64)
    if not state.any():  # the all-zero state is a fixed point of xoshiro; probability 2^-256
        state[0] = np.uint64(0x9E3779B97F4A7C15)
    return state


def chunk_states(seed: int, first: int, count: int) -> np.ndarray:
    """States of chunks first, ..., first + count - 1, as a (count, 4) uint64 array."""
    out = np.empty((count, 4), dtype=np.uint64)
    for i in range(count):
        out[i] = chunk_state(seed, first + i)
    return out


def fresh_seed() -> int:
    """A random 63-bit seed (recorded in the result so that the run can be repeated)."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
