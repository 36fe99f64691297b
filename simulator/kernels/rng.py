"""Random streams of the Monte Carlo engine (``docs/architecture.md``, "Statistics" and "Performance budget").

Seeding: a user seed -> ``numpy.random.SeedSequence`` -> one child per chunk, the child of chunk i being
``SeedSequence(seed, spawn_key=(i,))`` (what ``SeedSequence(seed).spawn(i + 1)[i]`` returns). The child's
``generate_state(4, uint64)`` seeds a xoshiro256+ generator that runs inside the numba kernels: ~1 ns per
draw, against ~7-8 ns for numba's ``np.random.random()``. Chunk i's stream therefore depends only on (seed, i),
whatever the threads, the scheduling or the backend.

Uniforms lie in the open interval (0, 1): the top 52 bits of a xoshiro256+ output k give (k + 1/2) 2^-52, so
0 and 1 never occur (v(0) may be infinite). The smallest quantile drawn is 2^-53 ~ 1.1e-16.

The CUDA backend cannot run one sequential stream per chunk (a chunk's auctions run on thousands of threads),
so its draws come from the counter-based Philox4x32-10 (Salmon et al., SC'11; Random123's constants): every
draw a pure function of (chunk key, counter). ``next_uniform(st)`` serves the samplers of both: ``st`` is a
chunk's xoshiro256+ state (4 uint64, CPU) or an auction's Philox stream (8 uint32, ``PHILOX_STREAM``), told
apart by its dtype when numba compiles the caller. The CUDA kernels call these ``njit`` functions (numba's CUDA
target compiles them for the GPU), and so everything that draws through ``next_uniform``.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

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


#: number of uniform keys: a uniform is (key + 1/2) 2^-52 for a 52-bit key, increasing in the key
KEYS = np.uint64(1 << 52)


@numba.njit(cache=True, inline="always")
def key_uniform(key):
    """The uniform of a 52-bit key: (key + 1/2) 2^-52, in the open interval (0, 1) (exact: key + 1/2 < 2^53)."""
    return (np.float64(key) + 0.5) * _SCALE


@numba.njit(cache=True, inline="always")
def to_open_uniform(x):
    """A 64-bit output as a uniform in (0, 1): its top 52 bits as the key (never 0, never 1)."""
    return key_uniform(x >> _U12)


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


# ---------------------------------------------------------------------- Philox4x32-10 (the CUDA backend's streams)
PHILOX_M0 = np.uint64(0xD2511F53)
PHILOX_M1 = np.uint64(0xCD9E8D57)
PHILOX_W0 = np.uint64(0x9E3779B9)
PHILOX_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)
_U20 = np.uint64(20)
#: an auction's Philox stream: key words k0, k1, counter words (auction, c2, c3), draws so far d, and the
#: two words of the draw d + 1 waiting in the last block (``next_uniform``)
K0, K1, AUCTION, C2, C3, DRAWS, PENDING_HI, PENDING_LO = range(8)
PHILOX_STREAM = 8


@numba.njit(cache=True)
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1), all uint32: four uint32 words."""
    for _ in range(10):
        p0 = np.uint64(c0) * PHILOX_M0
        p1 = np.uint64(c2) * PHILOX_M1
        hi0 = np.uint32(p0 >> _U32)
        lo0 = np.uint32(p0 & _MASK32)
        hi1 = np.uint32(p1 >> _U32)
        lo1 = np.uint32(p1 & _MASK32)
        c0 = np.uint32(hi1 ^ c1 ^ k0)
        c1 = lo1
        c2 = np.uint32(hi0 ^ c3 ^ k1)
        c3 = lo0
        k0 = np.uint32((np.uint64(k0) + PHILOX_W0) & _MASK32)
        k1 = np.uint32((np.uint64(k1) + PHILOX_W1) & _MASK32)
    return c0, c1, c2, c3


@numba.njit(cache=True, inline="always")
def words_key(hi, lo):
    """The 52-bit key of two uint32 words: the top 52 of their 64 bits."""
    return (np.uint64(hi) << _U20) | (np.uint64(lo) >> _U12)


@numba.njit(cache=True, inline="always")
def open_uniform(hi, lo):
    """Two uint32 words as a float64 uniform in (0, 1), as ``to_open_uniform`` (float32 uniforms would round up
    to exactly 1.0: never used)."""
    return key_uniform(words_key(hi, lo))


@numba.njit(cache=True)
def keys_at_most(x):
    """The number of keys whose uniform is <= x: key k qualifies iff k < keys_at_most(x) (k + 1/2 <= x 2^52;
    x 2^52 - 1/2 is exact for x in [0, 1])."""
    if x >= 1.0:
        return KEYS
    y = x * 4503599627370496.0 - 0.5
    if y < 0.0:
        return np.uint64(0)
    return np.uint64(math.floor(y)) + np.uint64(1)


@numba.njit(cache=True, inline="always")
def philox_uniform(st):
    """The next uniform of an auction's Philox stream ``st`` (``PHILOX_STREAM`` uint32, advanced in place):
    the block at counter (d // 2, auction, c2, c3) gives draws d and d + 1, the second kept for the next call."""
    d = st[DRAWS]
    st[DRAWS] = np.uint32(d + np.uint32(1))
    if d & np.uint32(1):
        return open_uniform(st[PENDING_HI], st[PENDING_LO])
    w0, w1, w2, w3 = philox4x32_10(np.uint32(d >> np.uint32(1)), st[AUCTION], st[C2], st[C3], st[K0], st[K1])
    st[PENDING_HI] = w2
    st[PENDING_LO] = w3
    return open_uniform(w0, w1)


@numba.njit(cache=True, inline="always")
def xoshiro_uniform(st):
    """The next uniform of a chunk's xoshiro256+ state ``st`` (4 uint64, advanced in place)."""
    x, s0, s1, s2, s3 = xoshiro_next(st[0], st[1], st[2], st[3])
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return to_open_uniform(x)


def next_uniform(st):
    """A uniform in (0, 1) from the stream ``st``, advanced in place: a xoshiro256+ state (4 uint64) or a
    Philox auction stream (``PHILOX_STREAM`` uint32). In numba code the dtype picks the generator at compile
    time (the overload below); as Python (numba's CUDA simulator) at run time."""
    if st.dtype == np.uint32:
        return philox_uniform(st)
    return xoshiro_uniform(st)


@overload(next_uniform)
def _next_uniform_typed(st):
    if isinstance(st, types.Array) and st.dtype == types.uint32:
        return lambda st: philox_uniform(st)
    if isinstance(st, types.Array) and st.dtype == types.uint64:
        return lambda st: xoshiro_uniform(st)
    return None


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
